"""Matching at city scale: ranking latency, and allocating an open call against the greedy baseline.

    .venv/bin/python bench/match_bench.py --db bench/results/bench-100000.sqlite3

- Ranking: `rank()` for needs drawn like the query mix (a point half at stations and half where
  synthetic nodes are, one or two common processes, a common material half the time, 10–500
  units, within 5 km), single thread, p50/p99.
- Allocation: N needs (default 10,000) of the same kind over M nodes (default 60,000, sampled from
  the database's active located nodes with their default capacities), solved exactly
  (`allocate`) and by the greedy nearest-first baseline (`allocate_greedy`) in the same run:
  time, needs covered and total distance of each.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from fabcity.matching.allocate import Demand, allocate, allocate_greedy, node_capacities
from fabcity.matching.need import Need
from fabcity.matching.rank import rank
from fabcity.startup import open_platform, settle
from querymix import COMMON_PROCESSES, code_version, query_points, summary

MATERIALS = {
    "sewing": "fabric", "laser_cutting": "acrylic", "woodworking": "plywood", "printing": "paper",
    "metalworking": "steel", "welding": "steel", "3d_printing": "pla", "leatherworking": "leather",
}  # fmt: skip


def needs(count: int, seed: int) -> list[Need]:
    rng = random.Random(seed)
    made = []
    for lat, lon in query_points(count, seed):
        processes = rng.sample(COMMON_PROCESSES, 2 if rng.random() < 0.2 else 1)
        materials = [MATERIALS[processes[0]]] if processes[0] in MATERIALS and rng.random() < 0.5 else []
        made.append(
            Need(
                processes=processes,
                materials=materials,
                quantity=rng.randint(10, 500),
                place={"lat": lat, "lon": lon},
                max_distance_m=5000,
            )  # fmt: skip
        )
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--rank-queries", type=int, default=300)
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    platform = open_platform(args.db)
    settle(platform)  # as a server worker does
    report: dict[str, object] = {"code": code_version()}

    ranked = needs(args.rank_queries + 30, args.seed)
    for need in ranked[:30]:
        rank(platform, need)
    samples, found = [], 0
    for need in ranked[30:]:
        started = time.perf_counter()
        result = rank(platform, need)
        samples.append(1000 * (time.perf_counter() - started))
        found += len(result.matches)
    report["rank"] = {**summary(samples), "mean_results": round(found / len(samples), 1)}
    print(f"rank    {report['rank']}", flush=True)

    started = time.perf_counter()
    everyone = node_capacities(platform)
    loading = time.perf_counter() - started
    capacities = random.Random(args.seed).sample(everyone, min(args.nodes, len(everyone)))
    demands = [Demand(f"need-{i}", need) for i, need in enumerate(needs(args.needs, args.seed + 1))]
    for name, solver in (("optimal", allocate), ("greedy", allocate_greedy)):
        started = time.perf_counter()
        result = solver(demands, capacities)
        seconds = time.perf_counter() - started
        report[name] = {
            "seconds": round(seconds, 2),
            "covered": len(result.assigned),
            "coverage": round(len(result.assigned) / len(demands), 4),
            "total_distance_km": round(result.total_distance_m / 1000, 1),
            "mean_distance_m": round(result.total_distance_m / max(len(result.assigned), 1), 1),
            "proven_optimal": result.optimal,
        }
        print(f"{name:8}{report[name]}", flush=True)
    report["allocation_input"] = {
        "needs": len(demands),
        "nodes": len(capacities),
        "loading_capacities_s": round(loading, 2),
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
