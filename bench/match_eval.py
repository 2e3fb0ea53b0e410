"""Matching quality on the embedded Seoul dataset: the labelled needs read and ranked as the API does.

    .venv/bin/python bench/match_eval.py [--set tests/data/match_eval.json] [--db DB] [--json out.json]

Opens a fresh platform on the embedded dataset (a new SQLite file, unless --db is given), runs
every labelled need through read_need and rank (what POST /api/v1/match does) and prints, per
language and overall, macro averages over the needs some node can make:

- P@5: relevant nodes in the first five ÷ 5 (at most |relevant|/5 when fewer than five are relevant);
- P@5 capped: relevant nodes in the first five ÷ min(5, |relevant|);
- R-prec: relevant nodes in the first |relevant| ÷ |relevant|;
- R@10: relevant nodes in the first ten ÷ |relevant|;
- MRR: 1 / the place of the first relevant node (0 when none is ranked);
- empty: needs no node can make that got no result, of all such needs.

Then every need that misses: what was read, the relevant nodes not in the first ten (or, for a
need no node can make, what was offered), and what was ranked.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from fabcity.matching.evaluate import METRICS, Judged, judge, load, summary
from fabcity.startup import open_platform

DEFAULT_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "match_eval.json"
HEADERS = {"precision_at_5": "P@5", "precision_at_5_capped": "P@5 capped", "r_precision": "R-prec",
           "recall_at_10": "R@10", "mrr": "MRR"}  # fmt: skip


def _read(judged: Judged) -> str:
    need = judged.reading.need
    parts = [f"processes={need.processes}"]
    if need.materials:
        parts.append(f"materials={need.materials}")
    if need.place:
        parts.append(f"place={need.place.label} ({need.place.precision})")
    if need.max_distance_m:
        parts.append(f"within {need.max_distance_m:,.0f} m")
    if need.quantity:
        parts.append(f"quantity={need.quantity}")
    return ", ".join(parts)


def _table(groups: dict[str, dict]) -> list[str]:
    lines = [
        f"{'':6}{'needs':>6}" + "".join(f"{HEADERS[m]:>12}" for m in METRICS) + f"{'empty':>9}",
    ]
    for name, row in groups.items():
        figures = "".join(f"{row[m]:>12.3f}" if row[m] is not None else f"{'-':>12}" for m in METRICS)
        empty = f"{row['unanswerable_empty']}/{row['unanswerable']}"
        lines.append(f"{name:6}{row['answerable']:>6}{figures}{empty:>9}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="the labelled needs (JSON)")
    parser.add_argument("--db", help="an existing database; default: a fresh one with the embedded dataset")
    parser.add_argument("--json", type=Path, help="also write the figures and the misses here")
    args = parser.parse_args(argv)
    labelled = load(args.set)
    with tempfile.TemporaryDirectory() as scratch:
        platform = open_platform(args.db or str(Path(scratch) / "eval.sqlite3"))
        judged = judge(platform, labelled)
        platform.engine.dispose()
    languages = sorted({j.need.language for j in judged})
    groups = {language: summary([j for j in judged if j.need.language == language]) for language in languages}
    groups["all"] = summary(judged)
    print(f"{len(judged)} needs from {args.set.name}; the first column counts those some node can make")
    print("\n".join(_table(groups)))
    misses = [j for j in judged if j.missed]
    for language in languages:
        missing = [j for j in misses if j.need.language == language]
        print(f"\nneeds that miss ({language}): {len(missing)}")
        for j in missing:
            label = "offered, none expected" if not j.need.relevant else "not in the first 10"
            print(f"  {j.need.id} [{j.need.category}] {j.need.text}")
            print(f"      read: {_read(j)}; unread: {j.reading.unread}")
            print(f"      {label}: {j.missed}; ranked: {j.ranked[:10]}")
    if args.json:
        report = {
            "figures": groups,
            "misses": [{"id": j.need.id, "missed": j.missed, "ranked": j.ranked[:10]} for j in misses],
        }
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
