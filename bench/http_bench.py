"""HTTP latency under load: `fabcity serve` on loopback, the query mix from 32 concurrent clients.

    .venv/bin/python bench/http_bench.py --db bench/results/bench-100k.sqlite3 --clients 32 --requests 3000

Starts `fabcity serve --host 127.0.0.1 --port <free port> --db ...` (plus `--workers W` when
asked) as a subprocess, waits for /healthz, sends an untimed warm-up, then `--passes` times
`--requests` GET /api/v1/nodes requests (the four query types in turn) over `--clients` keep-alive
connections, opened anew for each pass because how they spread over the workers differs from one
set to the next. Each client is a coroutine sending its next request as soon as the previous
answer is in (a closed loop), all in one asyncio event loop speaking plain HTTP/1.1 so that the
load generator takes little of the two cores. It reports latency per request as the client sees
it (p50/p99, pooled and by pass), requests/s, errors, the server's peak RSS (VmHWM from
/proc/<pid>/status, summed over the server's process tree) and CPU time per request, and, on
PostgreSQL, the peak RSS of its backends for this database. Clients and server share the
machine's cores; the client's CPU time is reported too.

Note: `fabcity serve` opens the database with the embedded dataset, so on first start it also
imports the 17 embedded nodes (a few milliseconds; they are not synthetic).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text

from fabcity.storage.db import database_url
from querymix import KINDS, Query, code_version, make_queries, summary

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of a process in KiB (empty if it is gone)."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


@contextmanager
def server(db: str, log_path: Path, startup_timeout: float, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen]]:
    """A `fabcity serve` subprocess on a free loopback port, stopped (SIGINT, then SIGKILL) afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(VENV_BIN / "fabcity"), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db]
    if workers > 1:
        command += ["--workers", str(workers)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"fabcity serve exited with {process.returncode}; see {log_path}")
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no /healthz answer within {startup_timeout:.0f} s; see {log_path}")
                time.sleep(0.2)
            _wait_until_started(process.pid, workers, deadline)
            yield base, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_started(pid: int, workers: int, deadline: float) -> None:
    """With several workers, /healthz answers once the first is up; the others may still be loading.

    Connections opened then would all land on the first one, so wait until every worker exists
    and the server's CPU time has stopped growing (all of them idle, listening).
    """
    while time.monotonic() < deadline:
        tree = process_tree(pid)
        before = cpu_seconds(tree)
        time.sleep(0.5)
        if len(tree) >= (workers + 1 if workers > 1 else 1) and cpu_seconds(tree) - before < 0.05:
            return
    raise RuntimeError("the server's workers did not settle before the start-up deadline")


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (uvicorn workers), from the parent ids in /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    tree = [pid]
    for member in tree:
        tree += [child for child, parent in parents.items() if parent == member]
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_backends(db: str) -> list[int]:
    """PIDs of the PostgreSQL backends connected to this database (for their memory)."""
    url = database_url(db)
    if not url.startswith("postgresql"):
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            ).all()
        return [row.pid for row in rows]
    finally:
        engine.dispose()


async def _fetch(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, gzip: bool = False
) -> tuple[int, int]:
    """One GET on a kept-alive connection: (status, body bytes). Every fabcity answer has a Content-Length."""
    accept = "Accept-Encoding: gzip\r\n" if gzip else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{accept}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return status, length


def drive(
    base: str, queries: list[Query], clients: int, max_seconds: float = 1e9, gzip: bool = False
) -> tuple[list[tuple[str, float]], list[str], float, float]:
    """Send every query once over `clients` keep-alive connections: (kind, ms) samples, errors, wall s, client CPU s.

    The clients are coroutines in one event loop speaking plain HTTP/1.1, so the load generator
    spends a few tens of microseconds per request and leaves the two cores to the server.
    """
    host = base.removeprefix("http://")
    address, port = host.rsplit(":", 1)
    paths = [f"/api/v1/nodes?{urlencode(query.params())}" for query in queries]
    samples: list[tuple[str, float]] = []
    errors: list[str] = []
    position = iter(range(len(queries)))

    async def client(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(address, int(port))
        try:
            while time.monotonic() < deadline and (index := next(position, None)) is not None:
                started = time.perf_counter()
                try:
                    status, length = await _fetch(reader, writer, host, paths[index], gzip)
                except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as error:
                    errors.append(f"{type(error).__name__} {paths[index]}")
                    writer.close()
                    reader, writer = await asyncio.open_connection(address, int(port))
                    continue
                elapsed = 1000 * (time.perf_counter() - started)
                if status != 200 or not length:
                    errors.append(f"{status} {paths[index]}")
                else:
                    samples.append((queries[index].kind, elapsed))
        finally:
            writer.close()

    async def run() -> None:
        deadline = time.monotonic() + max_seconds
        await asyncio.gather(*(client(deadline) for _ in range(clients)))

    started, cpu_started = time.perf_counter(), time.process_time()
    asyncio.run(run())
    return samples, errors, time.perf_counter() - started, time.process_time() - cpu_started


def interleaved(count: int, seed: int, bbox_fields: str | None = None) -> list[Query]:
    """`count` queries cycling through the four kinds (viewports with fields=bbox_fields if given)."""
    per_kind = -(-count // len(KINDS))
    mixes = [make_queries(kind, per_kind, seed) for kind in KINDS]
    for query in mixes[KINDS.index("bbox")]:
        query.fields = bbox_fields
    return [mixes[i % len(KINDS)][i // len(KINDS)] for i in range(count)]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="SQLite path or postgresql:// URL")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server processes (fabcity serve --workers)")
    parser.add_argument("--bbox-fields", choices=("summary",), help="ask viewports for summary records")
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip, as a browser does")
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per pass (default: %(default)s)")
    parser.add_argument(
        "--passes", type=int, default=5, help="timed passes, each on new connections (default: %(default)s)"
    )
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests first (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=11, help="query parameter seed (default: %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop sending after this (default: %(default)s)")
    parser.add_argument("--startup-timeout", type=float, default=600)
    parser.add_argument("--log", type=Path, default=Path("bench/results/http-server.log"))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def planned(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings and the code measured, recorded before the server starts."""
    return {
        "clients": args.clients,
        "workers": args.workers,
        "requests_planned": args.requests,
        "passes_planned": args.passes,
        "bbox_fields": args.bbox_fields or "full",
        "gzip": args.gzip,
        "code": code_version(),
    }


@dataclass
class Passes:
    """The timed passes: every sample and error pooled, their wall and client CPU time summed, and each pass's
    own summary (so a pass whose connections landed unevenly on the workers shows)."""

    samples: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    summaries: list[dict[str, Any]] = field(default_factory=list)


def timed_passes(base: str, queries: list[Query], args: argparse.Namespace) -> Passes:
    """`--requests` queries at a time until they run out or `--max-seconds` have passed."""
    passes = Passes()
    deadline = time.monotonic() + args.max_seconds
    for start in range(0, len(queries), args.requests):
        # new connections each pass: how the kernel spreads them over the workers varies by pass
        left = deadline - time.monotonic()
        if left <= 0:
            break
        samples, errors, wall, client_cpu = drive(
            base, queries[start : start + args.requests], args.clients, left, args.gzip
        )
        passes.samples += samples
        passes.errors += errors
        passes.wall_s += wall
        passes.client_cpu_s += client_cpu
        passes.summaries.append({**summary([ms for _, ms in samples]), "requests_per_s": round(len(samples) / wall, 1)})
    return passes


@dataclass(frozen=True)
class ServerRun:
    """What was measured with the server up; its processes' and PostgreSQL backends' memory is read
    before it stops, as it is gone after."""

    start_s: float
    passes: Passes
    server_cpu_s: float
    server_processes: list[dict[str, int]]  # VmHWM and VmRSS of each process of the server
    pg_backends: list[dict[str, int]]  # the same of each PostgreSQL backend of the database (none on SQLite)


def run_server(args: argparse.Namespace, queries: list[Query]) -> ServerRun:
    """Start the server, warm it up untimed, then run the timed passes on the rest of the queries."""
    started = time.perf_counter()
    with server(args.db, args.log, args.startup_timeout, args.workers) as (base, process):
        start_s = round(time.perf_counter() - started, 2)
        print(f"server up on {base} (pid {process.pid}) after {start_s} s", file=sys.stderr)
        drive(base, queries[: args.warmup], args.clients, min(args.max_seconds, 120), args.gzip)
        tree = process_tree(process.pid)
        cpu_before = cpu_seconds(tree)
        passes = timed_passes(base, queries[args.warmup :], args)
        server_cpu = cpu_seconds(tree) - cpu_before
        statuses = [proc_status(pid) for pid in tree]
        backends = [proc_status(pid) for pid in postgres_backends(args.db)]
    return ServerRun(start_s, passes, server_cpu, statuses, backends)


def measured(run: ServerRun) -> dict[str, Any]:
    """The report's measured figures: latency, throughput, errors, CPU time and peak memory."""
    passes, statuses, backends = run.passes, run.server_processes, run.pg_backends
    report: dict[str, Any] = {
        "server_start_s": run.start_s,
        "client_cpu_s": round(passes.client_cpu_s, 2),
        "server_cpu_s": round(run.server_cpu_s, 2),
        "server_cpu_ms_per_request": round(1000 * run.server_cpu_s / max(len(passes.samples), 1), 2),
        "requests": len(passes.samples) + len(passes.errors),
        "wall_s": round(passes.wall_s, 2),
        "requests_per_s": round(len(passes.samples) / passes.wall_s, 1),
        "errors": len(passes.errors),
        "error_examples": passes.errors[:5],
        "server_processes": len(statuses),
        "server_peak_rss_mib": round(sum(s.get("VmHWM", 0) for s in statuses) / 1024, 1),
        "server_peak_rss_mib_largest": round(max(s.get("VmHWM", 0) for s in statuses) / 1024, 1),
        "server_rss_end_mib": round(sum(s.get("VmRSS", 0) for s in statuses) / 1024, 1),
    }
    if backends:
        report["pg_backends"] = len(backends)
        report["pg_backends_peak_rss_mib_sum"] = round(sum(s.get("VmHWM", 0) for s in backends) / 1024, 1)
        report["pg_backend_peak_rss_mib_max"] = round(max(s.get("VmHWM", 0) for s in backends) / 1024, 1)
    report["all"] = summary([ms for _, ms in passes.samples])
    report["passes"] = passes.summaries
    report["by_kind"] = {kind: summary([ms for k, ms in passes.samples if k == kind]) for kind in KINDS}
    return report


def print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    """The report as a table on stdout (the figures as they are go to --json)."""
    overall = report["all"]
    print(f"HTTP GET /api/v1/nodes, {args.clients} clients, {overall['n']} requests, {report['errors']} errors")
    print(f"{'query':<15} {'p50':>8} {'p99':>8} {'mean':>8} {'max':>8}")
    for kind, figures in [("all", overall), *report["by_kind"].items()]:
        print(
            f"{kind:<15} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f} {figures['mean_ms']:8.1f}"
            f" {figures['max_ms']:8.1f}"
        )
    print(f"throughput        {report['requests_per_s']:,.1f} requests/s over {report['wall_s']} s")
    by_pass_p99 = ", ".join(f"{figures['p99_ms']:.1f}" for figures in report["passes"])
    by_pass_rate = ", ".join(f"{figures['requests_per_s']:,.0f}" for figures in report["passes"])
    print(f"by pass           p99 {by_pass_p99} ms; requests/s {by_pass_rate}")
    print(
        f"server peak RSS   {report['server_peak_rss_mib']:,.1f} MiB (VmHWM; at end {report['server_rss_end_mib']} MiB)"
    )
    if "pg_backends" in report:
        print(
            f"postgres backends {report['pg_backends']}, peak RSS sum {report['pg_backends_peak_rss_mib_sum']} MiB"
            f" (largest {report['pg_backend_peak_rss_mib_max']} MiB; includes touched shared buffers)"
        )
    print(
        f"server CPU        {report['server_cpu_s']} s = {report['server_cpu_ms_per_request']} ms per request"
        f" ({args.workers} worker process(es); each one's Python holds the GIL)"
    )
    print(f"client CPU        {report['client_cpu_s']} s (shares the {os.cpu_count()} cores with the server)")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    queries = interleaved(args.requests * args.passes + args.warmup, args.seed, args.bbox_fields)
    report = planned(args)
    report.update(measured(run_server(args, queries)))
    print_report(report, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
