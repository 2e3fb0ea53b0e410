"""Measurement at Seoul's scale: FLQ regionalisation and the index for every gu and dong, and the IO
core against pymrio.

    .venv/bin/python bench/measure_bench.py [--sectors 381] [--places 451]

- A national table of `--sectors` sectors (the size of the Bank of Korea's basic table) is made
  from a fixed seed: no real table is stored as text anywhere we could take one from. Regional
  employment for `--places` places (25 gu + 426 dongs) is drawn around the national structure.
  For every place: SLQ and FLQ (δ = 0.3), the regional coefficients a^r = a^n·min(1, FLQ), the
  regional purchase coefficients min(1, SLQ), and both indices (capacity from P/D = SLQ, and
  self-supply from the RPCs), weighted by national final demand. One figure: all places, seconds.
- The IO core (x, A, L) against pymrio's calc_x / calc_A / calc_L on the same inputs, on pymrio's
  test system and on the national table: time of each and the largest absolute difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pymrio

from fabcity.measure import io
from fabcity.measure.fci import fab_city_index


def national_table(sectors: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flows = rng.gamma(0.3, 1.0, (sectors, sectors)) * (rng.random((sectors, sectors)) < 0.3)
    final = rng.gamma(2.0, 50.0, sectors)
    scale = rng.uniform(0.2, 0.6, sectors) / np.maximum(flows.sum(axis=0), 1e-9)
    flows = flows * scale  # column sums 0.2–0.6 of a unit output before balancing
    x = flows.sum(axis=1) + final
    flows = flows * (x / np.maximum(flows.sum(axis=0) / 0.5, 1e-9))[None, :].clip(max=1.0)
    return flows, final, rng.gamma(2.0, 1000.0, sectors)


def regionalise_all(a: np.ndarray, final: np.ndarray, national_jobs: np.ndarray, places: int, seed: int) -> dict:
    rng = np.random.default_rng(seed + 1)
    weights = final / final.sum()
    names, ones = [str(i) for i in range(len(final))], np.ones(len(final))
    values = {"capacity": [], "self_supply": []}
    started = time.perf_counter()
    for _ in range(places):
        regional = national_jobs * rng.uniform(0.0, 0.02, len(national_jobs))
        quotients = io.slq(regional, national_jobs)
        io.regionalise(a, io.flq(regional, national_jobs, 0.3))
        rpc = np.minimum(1.0, np.nan_to_num(quotients))
        for kind, ratio in (("capacity", quotients), ("self_supply", rpc)):
            values[kind].append(fab_city_index(names, ratio, ones, weights, kind).value)
    return {"seconds": round(time.perf_counter() - started, 3), "places": places,
            "median_capacity": round(float(np.median(values["capacity"])), 2),
            "median_self_supply": round(float(np.median(values["self_supply"])), 2)}  # fmt: skip


def against_pymrio(flows: np.ndarray, final: np.ndarray, label: str) -> dict:
    started = time.perf_counter()
    x = io.total_output(flows, final)
    a = io.technical_coefficients(flows, x)
    inverse = io.leontief_inverse(a)
    ours = time.perf_counter() - started
    index = pd.Index(range(len(final)))
    z_frame, y_frame = pd.DataFrame(flows, index=index, columns=index), pd.DataFrame(final, index=index)
    started = time.perf_counter()
    x_theirs = pymrio.calc_x(z_frame, y_frame)
    a_theirs = pymrio.calc_A(z_frame, x_theirs)
    l_theirs = pymrio.calc_L(a_theirs)
    theirs = time.perf_counter() - started
    return {
        "system": label, "sectors": len(final), "fabcity_s": round(ours, 4), "pymrio_s": round(theirs, 4),
        "max_abs_diff_x": float(np.max(np.abs(x - x_theirs.to_numpy().ravel()))),
        "max_abs_diff_A": float(np.max(np.abs(a - a_theirs.to_numpy()))),
        "max_abs_diff_L": float(np.max(np.abs(inverse - l_theirs.to_numpy()))),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sectors", type=int, default=381)
    parser.add_argument("--places", type=int, default=451)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    flows, final, jobs = national_table(args.sectors, args.seed)
    a = io.technical_coefficients(flows, io.total_output(flows, final))
    report = {"regionalise_and_index": regionalise_all(a, final, jobs, args.places, args.seed)}
    print("regionalisation + index, all places:", report["regionalise_and_index"], flush=True)
    test_system = pymrio.load_test()
    test_system.calc_all()
    comparisons = [
        against_pymrio(test_system.Z.to_numpy(), test_system.Y.sum(axis=1).to_numpy(), "pymrio test system"),
        against_pymrio(flows, final, f"synthetic national {args.sectors}"),
    ]
    for comparison in comparisons:
        print("IO core vs pymrio:", comparison, flush=True)
    report["pymrio"] = comparisons
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
