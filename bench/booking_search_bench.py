""" "Free slot of a kind near a point" over 10,000 synthetic resources: latency of booking.finding.

    .venv/bin/python bench/booking_search_bench.py [--resources 10000] [--nodes 2000] [--queries 300] [--db URL]

A database (a fresh SQLite file unless --db names one) gets the embedded geography, `--nodes`
synthetic nodes (source = synthetic, loaded by load_synthetic.load, the import path) and
`--resources` resources spread over them: focus booths, desks, rooms and machines (laser cutters,
3D printers), one to three units each, open 09:00–18:00 every day, a fifth of them booked
tomorrow 10:00–11:00 KST. Each query asks for one kind free tomorrow 10:00–11:00 within 3 km of
a synthetic node's place (find_free, limit 10, the earliest free hour of those not free then).
The baseline, in the same run: the one-resource check each candidate costs
(service.units_free_for). Wall and CPU time are both shown: on a shared, loaded machine the wall
time's tail is mostly waiting for a core. Figures to stdout; the target is p99 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from fabcity.booking import finding, service
from fabcity.booking.policy import DEFAULT_POLICY
from fabcity.clock import KST
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.storage.schema import availability_rule, booking, booking_resource, booking_unit, node, user_account
from load_synthetic import load

KINDS = ("focus_booth", "desk", "room", "machine")
EQUIPMENT = ("laser_cutter", "3d_printer")


def _tomorrow(hour: int) -> datetime:
    day = (datetime.now(KST) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=KST).astimezone(UTC)


def seed_resources(platform: Platform, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """`count` resources over the synthetic nodes, their units, rules and some bookings; the nodes' places."""
    now = datetime.now(UTC)
    start, end = _tomorrow(10), _tomorrow(11)
    with platform.engine.begin() as conn:
        places = conn.execute(select(node.c.pk, node.c.lat, node.c.lon).where(node.c.lat.is_not(None))).all()
        member = conn.execute(
            insert(user_account)
            .values(email="bench@example.kr", password_hash="-", display_name="bench", role="member", created_at=now)
            .returning(user_account.c.id)
        ).scalar_one()
        resources, units, rules, bookings = [], [], [], []
        for number in range(1, count + 1):
            kind = KINDS[number % len(KINDS)]
            resources.append(
                {
                    "id": number, "node_pk": rng.choice(places).pk, "kind": kind, "name_ko": f"synthetic {number}",
                    "granularity_min": 30, "min_duration_min": 30, "max_duration_min": 240, "lead_time_min": 60,
                    "horizon_days": 60, "buffer_before_min": 0, "buffer_after_min": 0, "mode": "instant",
                    "hold_hours": 3, "price_per_slot_krw": 0, "cancellation_policy": DEFAULT_POLICY,
                    "time_zone": "Asia/Seoul", "created_at": now, "updated_at": now,
                    "equipment_type": rng.choice(EQUIPMENT) if kind == "machine" else None,
                }
            )  # fmt: skip
            for label in range(1, rng.randint(1, 3) + 1):
                units.append({"id": len(units) + 1, "resource_id": number, "label": str(label)})
                if number % 5 == 0:
                    bookings.append(
                        {
                            "resource_id": number, "unit_id": len(units), "member_id": member, "starts_at": start,
                            "ends_at": end, "blocked_start": start, "blocked_end": end, "state": "confirmed",
                            "idempotency_key": f"bench-{len(units)}", "price_krw": 0, "created_at": now,
                            "updated_at": now,
                        }
                    )  # fmt: skip
            rules += [
                {"resource_id": number, "weekday": day, "start_minute": 540, "end_minute": 1080} for day in range(7)
            ]
        for table, rows in ((booking_resource, resources), (booking_unit, units), (availability_rule, rules)):
            conn.execute(insert(table), rows)
        conn.execute(insert(booking), bookings)
    return [(row.lat, row.lon) for row in places]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, timings: list[float]) -> None:
    p50, p99 = percentile(timings, 0.50) * 1000, percentile(timings, 0.99) * 1000
    print(f"{name}: n={len(timings)} p50={p50:.1f} ms p99={p99:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--db", help="a database URL or SQLite path (default: a fresh temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    db = args.db or str(Path(tempfile.mkdtemp()) / "booking-bench.sqlite3")
    platform = open_platform(db, nodes=False)
    rng = random.Random(args.seed)
    load(platform, args.nodes, args.seed, 500)
    places = seed_resources(platform, args.resources, rng)
    print(f"{platform.engine.dialect.name}: {args.nodes} synthetic nodes, {args.resources} resources", file=sys.stderr)
    start, end = _tomorrow(10), _tomorrow(11)
    kinds = ["focus_booth", "desk", "meeting_room", "laser_cutter", "3d_printer"]
    searches, cpu, checks, found = [], [], [], 0
    for number in range(args.queries + 20):
        lat, lon = rng.choice(places)
        place = finding.Place(lat, lon, finding.DEFAULT_RADIUS_M)
        began, began_cpu = time.perf_counter(), time.process_time()
        answer = finding.find_free(platform, kinds[number % len(kinds)], place, start, end, limit=10)
        took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        resource_id = rng.randint(1, args.resources)
        with platform.engine.connect() as conn:
            row = conn.execute(select(booking_resource).where(booking_resource.c.id == resource_id)).one()
            began = time.perf_counter()
            service.units_free_for(conn, row, start, end, datetime.now(UTC))
            check = time.perf_counter() - began
        if number >= 20:  # the first ones warm the caches and are not counted
            searches.append(took)
            cpu.append(took_cpu)
            checks.append(check)
            found += len(answer["results"])
    report("free of a kind near a point (find_free, 3 km, limit 10)", searches)
    report("  the same, CPU time of this process (what the machine's load does not inflate)", cpu)
    report("baseline: one resource's check (units_free_for)", checks)
    print(f"results per search: {found / len(searches):.1f}; target p99 <= 50 ms")
    platform.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
