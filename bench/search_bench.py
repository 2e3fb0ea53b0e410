"""Engine latency: the query mix straight through fabcity.directory.search, no HTTP.

    .venv/bin/python bench/search_bench.py --db bench/results/bench-100k.sqlite3 [--queries 300]

Each timing is time.perf_counter() around search(platform, SearchQuery(...)), which includes
building the public records of the page. Query types are interleaved round-robin after a warm-up
that is not counted. --explain takes the slowest and the median timed query of each type, re-runs
every SQL statement the call made (timed with all rows fetched) and prints the plan of the slowest
statement (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL) and how much
of the call was Python.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from fabcity.directory.search import search
from fabcity.platform import Platform
from fabcity.startup import open_platform, settle
from querymix import EXTRA_KINDS, KINDS, Query, code_version, make_queries, summary


class StatementLog:
    """SQL statements (with parameters and time) a block of code runs, via SQLAlchemy events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any, float]] = []
        self._started = 0.0

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.statements.append((statement, parameters, time.perf_counter() - self._started))

    def __enter__(self) -> StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def explain(platform: Platform, query: Query) -> dict[str, Any]:
    """The SQL statements of one call, each re-run and timed with all its rows, and the slowest one's plan.

    A distance-ordered search may run one SELECT per ring it tries, so the slowest statement, not
    the first, is the one that explains a slow call. The statements' sum against the call's total
    shows how much is Python (building the SQL and the records).
    """
    engine = platform.engine
    with StatementLog(engine) as log:
        started = time.perf_counter()
        page = search(platform, query.search_query())
        total = time.perf_counter() - started
    timings = []
    with engine.connect() as conn:
        for statement, parameters, _ in log.statements:
            started = time.perf_counter()
            rows = len(conn.exec_driver_sql(statement, parameters).all())
            timings.append((1000 * (time.perf_counter() - started), rows))
        slowest = max(range(len(timings)), key=lambda i: timings[i][0])
        statement, parameters, _ = log.statements[slowest]
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        plan_rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    if engine.dialect.name == "sqlite":
        plan = [f"{'  ' * _depth(plan_rows, r)}{r[3]}" for r in plan_rows]
    else:
        plan = [r[0] for r in plan_rows]
    sql_ms = sum(ms for ms, _ in timings)
    return {
        "query": query.params(),
        "results": len(page.records),
        "total_ms": round(1000 * total, 2),
        "statements_ms": [round(ms, 2) for ms, _ in timings],
        "statements_rows": [rows for _, rows in timings],
        "sql_ms": round(sql_ms, 2),
        "python_ms": round(1000 * total - sql_ms, 2),
        "slowest_statement": slowest,
        "sql": statement,
        "plan": plan,
    }


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth += 1
        parent = parents[parent]
    return depth


def run(
    platform: Platform, kinds: list[str], count: int, warmup: int, seed: int, max_seconds: float
) -> tuple[dict[str, Any], dict[str, dict[str, Query]]]:
    """Round-robin over the kinds; the first `warmup` rounds are not counted.

    Stops early (after a whole round) once max_seconds have passed; `n` then says how many ran.
    Returns the figures per kind and, per kind, its slowest and its median timed query.
    """
    mixes = {kind: make_queries(kind, count + warmup, seed) for kind in kinds}
    samples: dict[str, list[tuple[float, int]]] = {kind: [] for kind in kinds}
    results: dict[str, int] = dict.fromkeys(kinds, 0)
    deadline = time.monotonic() + max_seconds
    for i in range(count + warmup):
        if time.monotonic() > deadline and i > warmup:
            print(f"\ntime budget of {max_seconds:.0f} s used up after {i - warmup} timed rounds", file=sys.stderr)
            break
        for kind in kinds:
            query = mixes[kind][i].search_query()
            started = time.perf_counter()
            page = search(platform, query)
            elapsed = time.perf_counter() - started
            if i >= warmup:
                samples[kind].append((1000 * elapsed, i))
                results[kind] += len(page.records)
        if (i + 1) % 10 == 0:
            print(f"\r{i + 1}/{count + warmup} rounds", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    figures = {
        kind: {
            **summary([ms for ms, _ in samples[kind]]),
            "mean_results": round(results[kind] / max(len(samples[kind]), 1), 1),
        }
        for kind in kinds
    }
    examples = {}
    for kind in kinds:
        ordered = sorted(samples[kind])
        if ordered:
            examples[kind] = {
                "slowest": mixes[kind][ordered[-1][1]],
                "median": mixes[kind][ordered[len(ordered) // 2][1]],
            }
    return figures, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="SQLite path or postgresql:// URL")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per type (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed rounds first (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="query parameter seed (default: %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=1800, help="time budget (default: %(default)s)")
    parser.add_argument("--extra", action="store_true", help=f"also run diagnostic kinds: {', '.join(EXTRA_KINDS)}")
    parser.add_argument("--also", action="append", default=[], choices=EXTRA_KINDS, help="one diagnostic kind")
    parser.add_argument("--explain", action="store_true", help="print plans and a time split per query type")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    platform = open_platform(args.db, nodes=False)
    settle(platform)  # as a server worker does
    kinds = list(KINDS) + [k for k in EXTRA_KINDS if args.extra or k in args.also]
    report: dict[str, Any] = {"db": platform.engine.dialect.name, "queries": args.queries, "seed": args.seed}
    report["code"] = code_version()
    report["latency"], examples = run(platform, kinds, args.queries, args.warmup, args.seed, args.max_seconds)

    timed = min(figures["n"] for figures in report["latency"].values())
    print(f"engine latency ({report['db']}, {timed} timed queries per type, ms)")
    print(f"{'query':<15} {'p50':>8} {'p99':>8} {'mean':>8} {'max':>8} {'results':>8}")
    for kind, figures in report["latency"].items():
        print(
            f"{kind:<15} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f} {figures['mean_ms']:8.2f}"
            f" {figures['max_ms']:8.2f} {figures['mean_results']:8.1f}"
        )
    if args.explain:
        report["explain"] = {}
        for kind, which, query in [(k, w, q) for k, pair in examples.items() for w, q in pair.items()]:
            found = explain(platform, query)
            report["explain"][f"{kind} ({which})"] = found
            print(f"\n== {kind}, {which} query: {found['query']}")
            print(
                f"   {found['results']} results in {found['total_ms']} ms; statements re-run with all rows"
                f" {found['statements_ms']} ms (rows {found['statements_rows']}), sum {found['sql_ms']} ms;"
                f" Python (SQL building, records) ≈ {found['python_ms']} ms;"
                f" plan of statement #{found['slowest_statement']}:"
            )
            print("\n".join("   " + line for line in found["plan"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
