"""Booking under contention: `fabcity serve --workers 2`, 32 clients, on SQLite and on PostgreSQL.

    .venv/bin/python bench/booking_bench.py --attempts 100000      # both backends, the full run
    .venv/bin/python bench/booking_bench.py --quick                # 3,000 attempts, to try it

For each backend: a fresh database (SQLite `bench/results/booking-bench.sqlite3`; PostgreSQL
`fabcity_bench_booking`, dropped at the end), 50 synthetic nodes (`source = synthetic`, so they count
in no indicator) with 20 resources each (1,000; instant, free, 30-minute slots, 30 to 120 minutes,
one unit, open every day 08:00–22:00 KST), made through `booking.resources.create_resource`, their
weekly rules written in one transaction, and 32 members with API tokens.

Then `--attempts` POST /api/v1/bookings over 32 keep-alive connections (coroutines in one asyncio
loop speaking plain HTTP/1.1, as http_bench.py, so the load generator takes little CPU), each
client sending its next attempt when the previous answer is in. A tenth of the attempts go for
four hot slots (two resources, tomorrow 10:00 and 11:00: heavy contention); the rest are spread over
the 1,000 resources, the next 30 days and the opening hours, 1 to 4 slots long, so that most are
accepted early on and more are refused as the calendars fill. Each attempt has its own idempotency
key. Reported apart: accepted (201) and refused (409) attempts, p50/p99 latency of each, confirmed
bookings/s and attempts/s over the run, and anything else as errors.

Afterwards, double bookings are counted with an SQL self-join over the blocking bookings (two on
one unit whose blocked periods overlap): it must be 0.

Free slots of one resource over 30 days (the busiest of the spread resources), sequentially, one
client, with the server idle: through HTTP (`GET /api/v1/resources/{id}/slots`) and in-process
(`booking.service.free_slots`), each against a baseline in the same run: the same expansion for a
resource with the same rules and no bookings, and (in-process) a plain SELECT of the booked rows of
that resource in those 30 days.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, insert, select, text

from fabcity.accounts import service as accounts
from fabcity.booking import resources, service
from fabcity.booking.models import ResourceIn
from fabcity.booking.vocabulary import BLOCKING
from fabcity.clock import KST
from fabcity.directory.models import validate_node
from fabcity.directory.writer import prepare, save_nodes
from fabcity.startup import open_platform
from fabcity.storage.schema import availability_rule, booking, booking_resource
from fabcity.synthetic.nodes import generate
from http_bench import cpu_seconds, process_tree, server
from querymix import code_version, summary

HERE = Path(__file__).resolve().parent
NODES, PER_NODE = 50, 20
OPEN_FROM, OPEN_UNTIL = 8 * 60, 22 * 60  # local minutes
SLOT = 30
HOT_SHARE = 0.1
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432"
PG_NAME = "fabcity_bench_booking"

DOUBLE_BOOKINGS = text(
    f"""SELECT count(*) FROM booking a JOIN booking b
        ON a.unit_id = b.unit_id AND a.id < b.id
       AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end
     WHERE a.state IN ({", ".join(f"'{state}'" for state in BLOCKING)})
       AND b.state IN ({", ".join(f"'{state}'" for state in BLOCKING)})"""
)


def _pgdb(action: str) -> None:
    subprocess.run(
        [sys.executable, str(HERE / "pgdb.py"), action, PG_NAME, "--admin", f"{PG_ADMIN}/postgres"], check=True
    )


def fresh_database(backend: str) -> str:
    if backend == "sqlite":
        path = HERE / "results" / "booking-bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return str(path)
    _pgdb("create")
    return f"{PG_ADMIN}/{PG_NAME}"


def _resource(slug: str, number: int) -> ResourceIn:
    """A laser cutter of the node: instant, free, 30-minute slots, 30 to 120 minutes, bookable right away."""
    return ResourceIn(
        node=slug, kind="machine", name_ko=f"레이저 커터 {number}", mode="instant",
        granularity_min=SLOT, min_duration_min=SLOT, max_duration_min=4 * SLOT, lead_time_min=0,
    )  # fmt: skip


def populate(db: str, clients: int, seed: int) -> dict[str, Any]:
    """Synthetic nodes, 1,000 resources with rules, one more never booked (the baseline), and the members' tokens."""
    platform = open_platform(db)
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # set-up only: sign-up speed
    records = [prepare(validate_node(record), platform.districts) for record in generate(NODES, seed)]
    with platform.engine.begin() as conn:
        save_nodes(conn, records, platform.districts, platform.stations)
    admin = accounts.create_user(platform, "bench-admin@example.kr", "bench password 1", "bench", role="admin")
    started = time.perf_counter()
    slugs = [record.item.slug for record in records for _ in range(PER_NODE)]
    ids = [
        resources.create_resource(platform, admin, _resource(slug, number))["id"] for number, slug in enumerate(slugs)
    ]
    quiet = resources.create_resource(platform, admin, _resource(slugs[0], len(slugs)))["id"]
    rules = [
        {"resource_id": rid, "weekday": day, "start_minute": OPEN_FROM, "end_minute": OPEN_UNTIL}
        for rid in [*ids, quiet]
        for day in range(7)
    ]
    with platform.engine.begin() as conn:
        conn.execute(insert(availability_rule), rules)
    made_s = time.perf_counter() - started
    members = [accounts.create_user(platform, f"m{i}@example.kr", "bench password 1", f"m{i}") for i in range(clients)]
    tokens = [accounts.create_token(platform, member, "bench") for member in members]
    platform.engine.dispose()
    return {"resources": ids, "quiet": quiet, "tokens": tokens, "setup_s": round(made_s, 1)}


def attempts(count: int, spread: list[int], seed: int) -> list[tuple[str, dict[str, Any]]]:
    """(kind, body) of every attempt: hot ones on four slots, the rest spread over resources, days and hours."""
    rng = random.Random(seed)
    tomorrow = (datetime.now(KST) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    hot = [(spread[r], tomorrow + timedelta(hours=h)) for r in (0, 1) for h in (10, 11)]
    slots_per_day = (OPEN_UNTIL - OPEN_FROM) // SLOT
    made = []
    for number in range(count):
        if rng.random() < HOT_SHARE:
            resource, start = rng.choice(hot)
            kind, length = "hot", 2
        else:
            length = rng.randint(1, 4)
            resource = rng.choice(spread[2:])
            day = tomorrow + timedelta(days=rng.randrange(30))
            start = day + timedelta(minutes=OPEN_FROM + SLOT * rng.randrange(slots_per_day - length + 1))
            kind = "spread"
        end = start + timedelta(minutes=SLOT * length)
        body = {"resource": resource, "starts_at": start.isoformat(), "ends_at": end.isoformat(),
                "idempotency_key": f"bench-{number}"}  # fmt: skip
        made.append((kind, body))
    return made


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, token: str, body: bytes) -> int:
    """One POST on a kept-alive connection; its status (the answer read to its end)."""
    writer.write(
        f"POST /api/v1/bookings HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split(" ", 2)[1])


def drive(base: str, planned: list[tuple[str, dict[str, Any]]], tokens: list[str]) -> dict[str, Any]:
    """Every attempt once over one connection per token: (status, kind, ms) samples, wall and client CPU."""
    host = base.removeprefix("http://")
    address, port = host.rsplit(":", 1)
    bodies = [(kind, json.dumps(body).encode()) for kind, body in planned]
    position = iter(range(len(bodies)))
    samples: list[tuple[int, str, float]] = []

    async def client(token: str) -> None:
        reader, writer = await asyncio.open_connection(address, int(port))
        try:
            while (index := next(position, None)) is not None:
                kind, body = bodies[index]
                started = time.perf_counter()
                try:
                    status = await _post(reader, writer, host, token, body)
                except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
                    status = 0
                    writer.close()
                    reader, writer = await asyncio.open_connection(address, int(port))
                samples.append((status, kind, 1000 * (time.perf_counter() - started)))
        finally:
            writer.close()

    async def run() -> None:
        await asyncio.gather(*(client(token) for token in tokens))

    started, cpu_started = time.perf_counter(), time.process_time()
    asyncio.run(run())
    return {
        "samples": samples,
        "wall_s": time.perf_counter() - started,
        "client_cpu_s": time.process_time() - cpu_started,
    }


def _timed(call, repeat: int) -> list[float]:
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        found.append(1000 * (time.perf_counter() - started))
    return found


def free_slot_figures(base: str, db: str, busy: int, quiet: int, repeat: int) -> dict[str, Any]:
    """Free slots over 30 days of the busiest resource and of the quiet one, through HTTP and in-process."""
    import httpx

    start = datetime.now(UTC) + timedelta(hours=1)
    end = start + timedelta(days=30)
    params = {"from": start.isoformat(), "to": end.isoformat()}
    figures: dict[str, Any] = {}
    with httpx.Client(base_url=base) as client:
        for name, resource in (("busy", busy), ("quiet", quiet)):
            path = f"/api/v1/resources/{resource}/slots"
            assert client.get(path, params=params).status_code == 200
            figures[f"http_{name}"] = summary(_timed(lambda path=path: client.get(path, params=params), repeat))
    platform = open_platform(db, nodes=False)
    try:
        for name, resource in (("busy", busy), ("quiet", quiet)):
            answer = service.free_slots(platform, resource, start, end)
            figures[f"slots_{name}"] = len(answer["slots"])
            call = lambda resource=resource: service.free_slots(platform, resource, start, end)  # noqa: E731
            figures[f"in_process_{name}"] = summary(_timed(call, repeat))
        rows = select(booking).where(
            booking.c.resource_id == busy, booking.c.starts_at >= start, booking.c.starts_at < end
        )

        def plain_select() -> None:
            with platform.engine.connect() as conn:
                conn.execute(rows).all()

        figures["in_process_plain_select"] = summary(_timed(plain_select, repeat))
    finally:
        platform.engine.dispose()
    return figures


def afterwards(db: str) -> dict[str, Any]:
    """Double bookings (must be 0), bookings stored, and the busiest spread resource."""
    platform = open_platform(db, nodes=False)
    try:
        with platform.engine.connect() as conn:
            doubles = conn.execute(DOUBLE_BOOKINGS).scalar_one()
            stored = conn.execute(select(func.count()).select_from(booking)).scalar_one()
            busiest = conn.execute(
                select(booking.c.resource_id)
                .group_by(booking.c.resource_id)
                .order_by(func.count().desc(), booking.c.resource_id)
                .limit(1)
            ).scalar_one()
            resource_count = conn.execute(select(func.count()).select_from(booking_resource)).scalar_one()
    finally:
        platform.engine.dispose()
    return {
        "double_bookings": doubles,
        "bookings_stored": stored,
        "busiest_spread": busiest,
        "resources": resource_count,
    }


def one_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    db = fresh_database(backend)
    try:
        made = populate(db, args.clients, args.seed)
        planned = attempts(args.attempts, made["resources"], args.seed)
        log = HERE / "results" / f"booking-serve-{backend}.log"
        with server(db, log, 600, args.workers) as (base, process):
            tree = process_tree(process.pid)
            cpu_before = cpu_seconds(tree)
            run = drive(base, planned, made["tokens"])
            server_cpu = cpu_seconds(tree) - cpu_before
            after = afterwards(db)
            slots = free_slot_figures(base, db, after["busiest_spread"], made["quiet"], args.slot_requests)
    finally:
        if backend == "postgresql" and not args.keep:
            _pgdb("drop")
    samples = run["samples"]
    accepted = [ms for status, _, ms in samples if status == 201]
    refused = [ms for status, _, ms in samples if status == 409]
    errors = [status for status, _, _ in samples if status not in (201, 409)]
    hot = [status for status, kind, _ in samples if kind == "hot"]
    return {
        "backend": backend,
        "setup_s": made["setup_s"],
        "attempts": len(samples),
        "wall_s": round(run["wall_s"], 1),
        "attempts_per_s": round(len(samples) / run["wall_s"], 1),
        "confirmed_per_s": round(len(accepted) / run["wall_s"], 1),
        "accepted": summary(accepted),
        "refused": summary(refused),
        "errors": len(errors),
        "error_statuses": sorted(set(errors))[:5],
        "hot_attempts": len(hot),
        "hot_accepted": hot.count(201),
        "server_cpu_ms_per_attempt": round(1000 * server_cpu / max(len(samples), 1), 2),
        "client_cpu_s": round(run["client_cpu_s"], 1),
        **after,
        "free_slots_30_days": slots,
    }


def print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    """The figures of one backend as lines on stdout (as they are in --json)."""
    load = os.getloadavg()[0]
    print(
        f"\n== {report['backend']}: {report['attempts']:,} attempts, {args.clients} clients, "
        f"fabcity serve --workers {args.workers}; load average {load:.1f} on {os.cpu_count()} cores at the end"
    )
    print(f"set-up: 1,000 resources through the service in {report['setup_s']} s")
    print(
        f"run {report['wall_s']} s: {report['attempts_per_s']:,} attempts/s, "
        f"{report['confirmed_per_s']:,} confirmed bookings/s, {report['errors']} errors {report['error_statuses']}"
    )
    print(f"{'':<10} {'n':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean':>8} {'max':>8}")
    for name in ("accepted", "refused"):
        row = report[name]
        figures = " ".join(f"{row.get(key, 0):8.1f}" for key in ("p50_ms", "p99_ms", "mean_ms", "max_ms"))
        print(f"{name:<10} {row['n']:8,} {figures}")
    print(f"hot slots: {report['hot_attempts']:,} attempts, {report['hot_accepted']} accepted (4 slots: at most 4)")
    print(f"server CPU {report['server_cpu_ms_per_attempt']} ms per attempt; client CPU {report['client_cpu_s']} s")
    print(
        f"DOUBLE BOOKINGS (self-join over blocking bookings): {report['double_bookings']}; "
        f"bookings stored {report['bookings_stored']:,}"
    )
    slots = report["free_slots_30_days"]
    print(
        f"free slots over 30 days, {args.slot_requests} requests each (busiest resource: "
        f"{slots['slots_busy']} free slots; never booked: {slots['slots_quiet']}):"
    )
    for name in ("http_busy", "http_quiet", "in_process_busy", "in_process_quiet", "in_process_plain_select"):
        row = slots[name]
        print(f"  {name:<24} p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=100_000, help="booking attempts per backend")
    parser.add_argument("--quick", action="store_true", help="3,000 attempts and 50 free-slot requests")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slot-requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.attempts, args.slot_requests = 3000, 50
    reports = []
    for backend in args.backends.split(","):
        started = time.perf_counter()
        report = one_backend(backend, args)
        report["total_s"] = round(time.perf_counter() - started, 1)
        print_report(report, args)
        reports.append(report)
    if args.json:
        args.json.write_text(json.dumps({"code": code_version(), "runs": reports}, indent=2, ensure_ascii=False))
    return 1 if any(report["double_bookings"] for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
