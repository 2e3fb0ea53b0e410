"""Load N synthetic nodes into a database and report import time, throughput and database size.

    .venv/bin/python bench/load_synthetic.py 100000 --db bench/results/bench-100k.sqlite3
    .venv/bin/python bench/load_synthetic.py 100000 --db postgresql://postgres@127.0.0.1:5432/fabcity_bench_100000

The database gets the embedded geography but none of the embedded nodes (open_platform(nodes=False)).
Every record goes through the same path as `fabcity import`: validate_node, prepare, then save_nodes
in batches, all inside ONE transaction. Progress goes to stderr, figures to stdout (and --json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from fabcity.directory.models import validate_node
from fabcity.directory.writer import Prepared, prepare, save_nodes
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.storage.schema import node
from fabcity.synthetic.nodes import SOURCE, generate
from querymix import code_version


def database_size(engine: Engine) -> dict[str, int]:
    """Bytes on disk: the SQLite file and its WAL, or pg_database_size on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "")
        wal = path.with_name(path.name + "-wal")
        return {"main": path.stat().st_size, "wal": wal.stat().st_size if wal.exists() else 0}
    with engine.connect() as conn:
        return {"main": conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one(), "wal": 0}


def load(platform: Platform, n: int, seed: int, batch: int) -> dict[str, Any]:
    """Validate, place and store n synthetic nodes in one transaction; time each stage."""
    districts, stations = platform.districts, platform.stations
    prepare_s = save_s = 0.0
    created = updated = 0
    started = time.perf_counter()
    pending: list[Prepared] = []
    records = generate(n, seed)
    with platform.engine.begin() as conn:
        done = 0
        while done < n:
            t0 = time.perf_counter()
            pending = [prepare(validate_node(record), districts) for record in islice(records, batch)]
            if not pending:
                raise RuntimeError(f"the generator stopped after {done} of {n} nodes")
            t1 = time.perf_counter()
            summary = save_nodes(conn, pending, districts, stations)
            t2 = time.perf_counter()
            prepare_s += t1 - t0
            save_s += t2 - t1
            created += summary.created
            updated += summary.updated
            done += len(pending)
            elapsed = t2 - started
            print(
                f"\r{done:>9,}/{n:,} nodes  {done / elapsed:8,.0f}/s  last batch save {1000 * (t2 - t1):7.0f} ms",
                end="",
                file=sys.stderr,
                flush=True,
            )
        commit_started = time.perf_counter()
    commit_s = time.perf_counter() - commit_started
    total_s = time.perf_counter() - started
    print(file=sys.stderr)
    return {
        "nodes": n,
        "created": created,
        "updated": updated,
        "import_s": round(total_s, 2),
        "nodes_per_s": round(n / total_s, 1),
        "generate_validate_prepare_s": round(prepare_s, 2),
        "save_nodes_s": round(save_s, 2),
        "commit_s": round(commit_s, 2),
    }


def after_load(engine: Engine) -> dict[str, Any]:
    """What the platform's own import does after writing, plus what PostgreSQL would do by itself.

    `fabcity import` refreshes planner statistics after every import (fabcity.storage.db.analyze,
    where the code under test has it); on PostgreSQL a VACUUM follows, which autovacuum would run
    within minutes of a bulk load anyway (it sets the visibility map index-only scans rely on).
    """
    steps = []
    started = time.perf_counter()
    try:
        from fabcity.storage.db import analyze
    except ImportError:  # older code: the platform gathered no statistics itself
        analyze = None
    if analyze is not None:
        analyze(engine)
        steps.append("fabcity analyze()")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if analyze is None else "VACUUM"))
        steps.append("VACUUM ANALYZE" if analyze is None else "VACUUM")
    return {"post_load": " + ".join(steps) or "none", "post_load_s": round(time.perf_counter() - started, 2)}


def checkpoint(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of synthetic nodes")
    parser.add_argument("--db", required=True, help="SQLite path or postgresql:// URL")
    parser.add_argument("--seed", type=int, default=20180, help="generator seed (default: %(default)s)")
    parser.add_argument("--batch", type=int, default=2000, help="nodes per save_nodes call (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    platform = open_platform(args.db, nodes=False)
    engine = platform.engine
    with engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(node)).scalar_one()
    if existing:
        print(f"warning: the database already holds {existing:,} nodes", file=sys.stderr)
    open_s = time.perf_counter() - started
    size_before = database_size(engine)

    result: dict[str, Any] = {"db": engine.dialect.name, "seed": args.seed, "batch": args.batch}
    result["code"] = code_version()
    result["open_and_geography_s"] = round(open_s, 2)
    result.update(load(platform, args.n, args.seed, args.batch))
    result["size_after_import"] = database_size(engine)
    result.update(after_load(engine))
    if engine.dialect.name == "sqlite":
        checkpoint(engine)
    result["size"] = database_size(engine)
    result["size_geography_only"] = size_before
    with engine.connect() as conn:
        result["synthetic_nodes"] = conn.execute(
            select(func.count()).select_from(node).where(node.c.source == SOURCE)
        ).scalar_one()

    mib = 1024 * 1024
    size = result["size"]
    print(f"backend           {result['db']}")
    print(f"nodes             {result['nodes']:,} (synthetic in db: {result['synthetic_nodes']:,})")
    print(f"import time       {result['import_s']:.1f} s  ({result['nodes_per_s']:,.0f} nodes/s)")
    print(
        f"  of which        generate+validate+prepare {result['generate_validate_prepare_s']:.1f} s,"
        f" save_nodes {result['save_nodes_s']:.1f} s, commit {result['commit_s']:.1f} s"
    )
    print(f"post-load         {result['post_load']} {result['post_load_s']:.1f} s")
    after = result["size_after_import"]
    print(
        f"db size at commit {(after['main'] + after['wal']) / mib:,.1f} MiB"
        f" (main {after['main'] / mib:,.1f} + wal {after['wal'] / mib:,.1f})"
    )
    geography = size_before["main"] + size_before["wal"]
    total = size["main"] + size["wal"]
    print(f"db size           {total / mib:,.1f} MiB (geography only: {geography / mib:,.1f} MiB)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
