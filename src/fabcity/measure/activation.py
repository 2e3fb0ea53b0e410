"""Activation indicators per gu per month, from the platform's own records.

For the month ending on a date (KST): active nodes by type and in all, their machines, nodes new
in the month, nodes verified within the last 90 days and at all; each also per 10,000 residents,
and the change from the same month a year before. A node counts from its creation; one closed
counts until its closing is recorded in the audit trail (closings before that trail are taken as
closed throughout). Counts from 1 to 4 are suppressed (None, marked), so that no small group of
places can be singled out; 0 stays 0. Bookings, production orders, projects and participants join
these once the platform records them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from fabcity.clock import KST
from fabcity.directory import vocabulary
from fabcity.platform import Platform
from fabcity.storage.schema import audit_log, district_stat, equipment, node

SUPPRESS_BELOW = 5
RECENT = timedelta(days=90)


def month_end(month: str) -> datetime:
    """The last instant of a 'YYYY-MM' month in Seoul, as UTC."""
    try:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"month: expected YYYY-MM, got {month!r}") from None
    return datetime(year, number, last, 23, 59, 59, tzinfo=KST).astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class _Node:
    gu: str
    node_type: str
    created: datetime
    closed: datetime | None  # None: open
    verified: datetime | None
    machines: int


def _nodes(platform: Platform) -> list[_Node]:
    with platform.engine.connect() as conn:
        closings = dict(
            conn.execute(
                select(audit_log.c.entity_id, func.max(audit_log.c.at))
                .where(audit_log.c.action == "node.close")
                .group_by(audit_log.c.entity_id)
            ).all()
        )
        machines = dict(
            conn.execute(
                select(equipment.c.node_pk, func.sum(func.coalesce(equipment.c.quantity, 1))).group_by(
                    equipment.c.node_pk
                )
            ).all()
        )
        rows = conn.execute(
            select(node.c.pk, node.c.id, node.c.gu_code, node.c.node_type, node.c.status, node.c.created_at,
                   node.c.verified_at).where(node.c.gu_code.is_not(None), node.c.source != "synthetic")
        ).all()  # fmt: skip
    found = []
    for row in rows:
        closed = None
        if row.status == "closed":
            closed = _aware(closings.get(row.id)) or datetime.min.replace(tzinfo=UTC)
        found.append(
            _Node(row.gu_code, row.node_type, _aware(row.created_at), closed, _aware(row.verified_at),
                  int(machines.get(row.pk, 0)))
        )  # fmt: skip
    return found


def _residents(platform: Platform) -> dict[str, float]:
    with platform.engine.connect() as conn:
        query = select(district_stat.c.district_code, district_stat.c.value).where(
            district_stat.c.indicator == "population"
        )
        return dict(conn.execute(query).all())


def _counts(nodes: list[_Node], until: datetime) -> dict[str, dict[str, int]]:
    month_start = until.astimezone(KST).replace(day=1, hour=0, minute=0, second=0).astimezone(UTC)
    counts: dict[str, dict[str, int]] = {}
    for item in nodes:
        gu = counts.setdefault(item.gu, {})
        active = item.created <= until and (item.closed is None or item.closed > until)
        if active:
            gu["active_nodes"] = gu.get("active_nodes", 0) + 1
            gu[f"active_{item.node_type}"] = gu.get(f"active_{item.node_type}", 0) + 1
            gu["machines"] = gu.get("machines", 0) + item.machines
            if item.verified is not None and item.verified <= until:
                gu["verified_nodes"] = gu.get("verified_nodes", 0) + 1
                if item.verified > until - RECENT:
                    gu["verified_last_90_days"] = gu.get("verified_last_90_days", 0) + 1
        if month_start <= item.created <= until:
            gu["new_nodes"] = gu.get("new_nodes", 0) + 1
    return counts


COUNTS = ("active_nodes", "new_nodes", "verified_nodes", "verified_last_90_days", "machines",
          *(f"active_{t}" for t in vocabulary.NODE_TYPES))  # fmt: skip


def _shown(count: int) -> int | None:
    return None if 0 < count < SUPPRESS_BELOW else count


def activation(platform: Platform, month: str | None = None) -> dict[str, Any]:
    """Indicators for every gu for the month (default: this month so far)."""
    month = month or datetime.now(KST).strftime("%Y-%m")
    until = month_end(month)
    year_before = month_end(f"{int(month[:4]) - 1}{month[4:]}")
    nodes = _nodes(platform)
    now, before = _counts(nodes, until), _counts(nodes, year_before)
    residents = _residents(platform)
    rows = []
    for gu in sorted(platform.districts.gus(), key=lambda d: d.code):
        here, earlier = now.get(gu.code, {}), before.get(gu.code, {})
        row: dict[str, Any] = {"code": gu.code, "name_ko": gu.name_ko, "name_en": gu.name_en, "month": month}
        suppressed = []
        for name in COUNTS:
            count = here.get(name, 0)
            row[name] = _shown(count)
            if row[name] is None:
                suppressed.append(name)
        population = residents.get(gu.code)
        active, previous = here.get("active_nodes", 0), earlier.get("active_nodes", 0)
        row["active_per_10k_residents"] = (
            round(active / population * 10_000, 3) if population and row["active_nodes"] is not None else None
        )
        row["active_yoy_change"] = (
            round((active - previous) / previous, 4)
            if previous >= SUPPRESS_BELOW and row["active_nodes"] is not None
            else None
        )
        row["suppressed"] = suppressed
        rows.append(row)
    return {
        "month": month,
        "as_of": until.isoformat(),
        "method": {
            "counts": "the platform's own records (synthetic benchmark nodes excluded)",
            "suppressed": f"counts from 1 to {SUPPRESS_BELOW - 1}",
            "residents": "resident registration population, 2025 Q1",
            "year_on_year": "active nodes against the same month a year before; shown from 5 nodes then",
        },
        "results": rows,
    }
