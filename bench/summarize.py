"""Collect the JSON figures run_all.sh leaves in bench/results/ into markdown tables per node count.

.venv/bin/python bench/summarize.py [--results bench/results] [N ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

KINDS = ("near_process", "gu_type", "text_near", "bbox", "bbox_summary")
TARGET_P99_MS = {100_000: 10.0, 1_000_000: 25.0}
HTTP_TARGET_P99_MS = {100_000: 50.0}


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _found(results: Path, prefix: str, n: int) -> dict[str, dict[str, Any]]:
    """{name: figures} for every `<prefix>-<name>-<n>.json`."""
    pattern = re.compile(rf"^{prefix}-(.+)-{n}\.json$")
    return {m.group(1): _read(p) for p in sorted(results.glob(f"{prefix}-*-{n}.json")) if (m := pattern.match(p.name))}


def _mib(value: float) -> str:
    return f"{value / 1024 / 1024:,.0f} MiB"


def _commit(figures: dict[str, Any]) -> str:
    return (figures.get("code") or {}).get("commit") or "?"


def engine_table(results: Path, n: int) -> list[str]:
    searches = _found(results, "search", n)
    if not searches:
        return []
    target = TARGET_P99_MS.get(n)
    names = list(searches)
    lines = [
        "| engine, ms | " + " | ".join(f"{name} ({_commit(searches[name])}) p50 / p99 / mean" for name in names) + " |"
    ]
    lines.append("|---" * (len(names) + 1) + "|")
    for kind in KINDS:
        cells = []
        for name in names:
            figures = searches[name]["latency"].get(kind)
            if not figures or not figures.get("n"):
                cells.append("–")
                continue
            miss = " ✗" if target and figures["p99_ms"] > target and kind != "bbox_summary" else ""
            cells.append(
                f"{figures['p50_ms']:.1f} / **{figures['p99_ms']:.1f}**{miss} / {figures['mean_ms']:.1f}"
                f" (n={figures['n']}, {figures['mean_results']:.0f} results)"
            )
        if any(cell != "–" for cell in cells):
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    if target:
        lines.append(f"\nEngine target p99 ≤ {target:g} ms on SQLite (✗ = over; bbox_summary is a diagnostic extra).")
    return lines


def load_table(results: Path, n: int) -> list[str]:
    loads = _found(results, "load", n)
    if not loads:
        return []
    lines = ["| load | " + " | ".join(f"{name} ({_commit(f)})" for name, f in loads.items()) + " |"]
    lines.append("|---" * (len(loads) + 1) + "|")
    rows = [
        ("import time", lambda f: f"{f['import_s']:,.0f} s ({f['nodes_per_s']:,.0f} nodes/s)"),
        (
            "of which generate+validate+prepare / save_nodes / commit",
            lambda f: f"{f['generate_validate_prepare_s']:,.0f} / {f['save_nodes_s']:,.0f} / {f['commit_s']:,.0f} s",
        ),
        ("after the load", lambda f: f"{f['post_load']}: {f['post_load_s']:,.0f} s"),
        ("database size", lambda f: _mib(f["size"]["main"] + f["size"]["wal"])),
        ("size at commit (SQLite: file + WAL)", lambda f: _mib(sum(f["size_after_import"].values()))),
    ]
    for label, getter in rows:
        lines.append(f"| {label} | " + " | ".join(getter(f) for f in loads.values()) + " |")
    return lines


def http_table(results: Path, n: int) -> list[str]:
    https = _found(results, "http", n)
    if not https:
        return []
    target = HTTP_TARGET_P99_MS.get(n)
    lines = [
        "| HTTP run | p50 / p99 ms (all) | p99 by pass | p99 near / gu / text / bbox | req/s | server CPU/req"
        " | server peak RSS | PG backends |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in https.items():
        overall = f["all"]
        miss = " ✗" if target and overall["p99_ms"] > target else ""
        per_kind = " / ".join(f"{f['by_kind'][k]['p99_ms']:,.0f}" for k in KINDS[:4])
        by_pass = " / ".join(f"{figures['p99_ms']:,.0f}" for figures in f.get("passes", [])) or "–"
        backends = f"{f['pg_backends']} × ≤{f['pg_backend_peak_rss_mib_max']:,.0f} MiB" if f.get("pg_backends") else "–"
        gzip = ", gzip" if f.get("gzip") else ""
        label = f"{name} ({f.get('workers', 1)} worker(s), bbox {f.get('bbox_fields', 'full')}{gzip}, {_commit(f)})"
        lines.append(
            f"| {label} | {overall['p50_ms']:,.0f} / **{overall['p99_ms']:,.0f}**{miss} | {by_pass} | {per_kind}"
            f" | {f['requests_per_s']:,.1f} ({f['requests']} req, {f['errors']} err) |"
            f" {f['server_cpu_ms_per_request']:.1f} ms | {f['server_peak_rss_mib']:,.0f} MiB | {backends} |"
        )
    if target:
        lines.append(f"\nHTTP target p99 ≤ {target:g} ms with 32 clients (✗ = over).")
    return lines


def report(results: Path, n: int) -> str:
    """Every figure found for n nodes."""
    parts = [f"### N = {n:,}"]
    for table in (engine_table, load_table, http_table):
        lines = table(results, n)
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="*", type=int)
    parser.add_argument("--results", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    counts = args.n or sorted(
        {int(m.group(1)) for p in args.results.glob("*.json") if (m := re.search(r"-(\d+)\.json$", p.name))}
    )
    print("\n\n".join(report(args.results, n) for n in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
