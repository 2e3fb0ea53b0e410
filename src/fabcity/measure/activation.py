"""Activation indicators per gu per month, from the platform's own records.

For the month ending on a date (KST), for every gu and for Seoul as a whole: nodes registered to
date (cumulative, closed ones included), active nodes by type and in all, those active in the
last 90 days (their record created, edited or verified then), their machines, nodes new in the
month, nodes verified within the last 90 days and at all; active nodes per 10,000 residents, as a
share of Seoul's, and the change from the same month a year before. A node counts from when it
opened (`founded`) or, failing that, from when its source listed it (the provenance's retrieval
date: for a place entered here by a person, the day they entered it), never from the day this
database was filled, which would show every loaded place as new in the month of loading. A node
with neither date is counted in no month, only in `no_known_start`. One closed counts until its
closing is recorded in the audit trail (closings before that trail are taken as closed throughout).
Counts from 1 to 4 are suppressed (None, marked), so that no small group of places can be singled
out; 0 stays 0.

Bookings of the month (`booking_figures`): bookings, booked machine-hours and unique bookers, by the
gu of the booked resource's node and for Seoul, each booking in the month (KST) in which it starts.
Only bookings that were kept count, so that the figures say how far the network's machines and
rooms were used: `confirmed` (promised and, when priced, paid), `completed` and `no_show` (the time
was taken from everyone else even if the member did not come). Requests, unpaid approvals,
declined, expired and cancelled bookings count nowhere: none of them used a machine. Machine-hours
are the booked time (buffers left out) of `machine` resources only: an hour of a production line or
a room is not an hour of one machine, so adding them would mix units. Production orders, projects
and participants join these once the platform records them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select

from fabcity.clock import KST, seoul_month
from fabcity.directory import vocabulary
from fabcity.errors import ParameterError
from fabcity.measure.districts import CensusTable, census_table, period_label
from fabcity.platform import Platform
from fabcity.storage import stamps
from fabcity.storage.schema import audit_log, booking, booking_resource, equipment, node

SUPPRESS_BELOW = 5
RECENT = timedelta(days=90)


def month_end(month: str, parameter: str = "month") -> datetime:
    """The last instant of a 'YYYY-MM' month in Seoul, as UTC; a bad month is an error of `parameter`."""
    try:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
    except (ValueError, calendar.IllegalMonthError):
        raise ParameterError(parameter, f"expected YYYY-MM, got {month!r}") from None
    return datetime(year, number, last, 23, 59, 59, tzinfo=KST).astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class _Node:
    gu: str
    node_type: str
    started: datetime | None  # opened or listed by its source; None: not known
    closed: datetime | None  # None: open
    verified: datetime | None
    machines: int
    touched: tuple[datetime, ...]  # every recorded write: creation, edits, verification


def _nodes(platform: Platform) -> list[_Node]:
    with platform.engine.connect() as conn:
        closings: dict[str, datetime] = {}
        writes: dict[str, list[datetime]] = {}
        for entity_id, action, at in conn.execute(
            select(audit_log.c.entity_id, audit_log.c.action, audit_log.c.at).where(audit_log.c.entity == "node")
        ):
            at = _aware(at)
            writes.setdefault(entity_id, []).append(at)
            if action == "node.close":
                closings[entity_id] = max(at, closings.get(entity_id, at))
        machines = dict(
            conn.execute(
                select(equipment.c.node_pk, func.sum(func.coalesce(equipment.c.quantity, 1))).group_by(
                    equipment.c.node_pk
                )
            ).all()
        )
        rows = conn.execute(
            select(node.c.pk, node.c.id, node.c.gu_code, node.c.node_type, node.c.status, node.c.founded,
                   node.c.retrieved_at, node.c.created_at, node.c.verified_at)
            .where(node.c.gu_code.is_not(None), node.c.source != "synthetic")
        ).all()  # fmt: skip
    found = []
    for row in rows:
        closed = None
        if row.status == "closed":
            closed = closings.get(row.id) or datetime.min.replace(tzinfo=UTC)
        verified = _aware(row.verified_at)
        touched = (_aware(row.created_at), *([verified] if verified else []), *writes.get(row.id, ()))
        started = _start(row.founded, _aware(row.retrieved_at))
        found.append(
            _Node(row.gu_code, row.node_type, started, closed, verified, int(machines.get(row.pk, 0)), touched)
        )
    return found


def _start(founded: str | None, listed: datetime | None) -> datetime | None:
    """When a place is known to have been there: its opening day (KST), else the day its source listed it."""
    if founded:
        return datetime.fromisoformat(founded).replace(tzinfo=KST).astimezone(UTC)
    return listed


SEOUL = "11"  # the row for the whole city, beside its 25 gu


def _counts(nodes: list[_Node], until: datetime) -> dict[str, dict[str, int]]:
    """Counts by gu code, and for Seoul under SEOUL."""
    month_start = until.astimezone(KST).replace(day=1, hour=0, minute=0, second=0).astimezone(UTC)
    recent = until - RECENT
    counts: dict[str, dict[str, int]] = {}

    def add(item: _Node, name: str, amount: int = 1) -> None:
        for place in (item.gu, SEOUL):
            here = counts.setdefault(place, {})
            here[name] = here.get(name, 0) + amount

    for item in nodes:
        if item.started is None:
            if item.closed is None or item.closed > until:
                add(item, "no_known_start")
            continue
        if item.started > until:
            continue
        add(item, "nodes_to_date")
        if month_start <= item.started:
            add(item, "new_nodes")
        if item.closed is not None and item.closed <= until:
            continue
        add(item, "active_nodes")
        add(item, f"active_{item.node_type}")
        add(item, "machines", item.machines)
        if any(recent < at <= until for at in item.touched):
            add(item, "active_last_90_days")
        if item.verified is not None and item.verified <= until:
            add(item, "verified_nodes")
            if item.verified > recent:
                add(item, "verified_last_90_days")
    return counts


COUNTS = ("nodes_to_date", "active_nodes", "active_last_90_days", "new_nodes", "verified_nodes",
          "verified_last_90_days", "machines", *(f"active_{t}" for t in vocabulary.NODE_TYPES),
          "no_known_start")  # fmt: skip


def _shown(count: int) -> int | None:
    return None if 0 < count < SUPPRESS_BELOW else count


def _row(here: dict[str, int], earlier: dict[str, int], seoul: dict[str, int], population: float | None) -> dict:
    """The published figures of one place: small counts suppressed, and nothing derived from them."""
    row: dict[str, Any] = {name: _shown(here.get(name, 0)) for name in COUNTS}
    active, previous = here.get("active_nodes", 0), earlier.get("active_nodes", 0)
    shown = row["active_nodes"] is not None
    row["active_per_10k_residents"] = round(active / population * 10_000, 3) if population and shown else None
    row["share_of_seoul_active"] = (
        round(active / seoul["active_nodes"], 4) if shown and seoul.get("active_nodes") else None
    )
    row["active_yoy_change"] = (
        round((active - previous) / previous, 4) if previous >= SUPPRESS_BELOW and shown else None
    )
    row["suppressed"] = [name for name in COUNTS if row[name] is None]
    return row


METHOD = {
    "counts": "the platform's own records (synthetic benchmark nodes excluded)",
    "start": "a node counts from when it opened or, failing that, from when its source listed it; "
    "never from when it was loaded into this platform",
    "no_known_start": "nodes open at the end of the month with neither date: counted in no month",
    "active_last_90_days": "active nodes whose record was created, edited or verified in the last 90 days",
    "suppressed": f"counts from 1 to {SUPPRESS_BELOW - 1}",
    "year_on_year": "active nodes against the same month a year before; shown from 5 nodes then",
}


def activation(platform: Platform, month: str | None = None) -> dict[str, Any]:
    """Indicators for Seoul and every gu for the month (default: this month so far). The node figures
    are computed again only after a node is written, since they read every node and its audit trail;
    the booking figures are read afresh, one query over the month's bookings."""
    month = month or seoul_month()
    month_end(month)  # a bad month is refused before the cache sees it
    nodes = _activation(platform, month, stamps.stamp(platform.engine, stamps.NODES), census_table(platform))
    booked = booking_figures(platform, month)

    def row(place: dict[str, Any]) -> dict[str, Any]:
        figures = booked.get(place["code"], _NO_BOOKINGS)
        more = [name for name in BOOKING_COUNTS if figures[name] is None]
        return {**place, **figures, "suppressed": [*place["suppressed"], *more]}

    return {
        **nodes,
        "method": {**nodes["method"], **BOOKING_METHOD},
        "seoul": row(nodes["seoul"]),
        "results": [row(place) for place in nodes["results"]],
    }


# The states of a booking that was kept: see the module's docstring for why these and no others.
KEPT_STATES = ("confirmed", "completed", "no_show")
BOOKING_COUNTS = ("bookings", "booked_machine_hours", "unique_bookers")
_NO_BOOKINGS: dict[str, float | None] = {"bookings": 0, "booked_machine_hours": 0, "unique_bookers": 0}
BOOKING_METHOD = {
    "bookings": "bookings starting in the month (KST) that were confirmed, completed or a no-show, "
    "by the gu of the booked resource's node",
    "booked_machine_hours": "the booked hours of those bookings of machines (production lines and rooms left out); "
    "suppressed when they come from 1 to 4 bookings",
    "unique_bookers": "members with at least one such booking; Seoul counts each member once",
}


def _month_start(month: str) -> datetime:
    """The first instant of a 'YYYY-MM' month in Seoul, as UTC."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=KST).astimezone(UTC)


def _booked_minutes(dialect: str) -> ColumnElement[float]:
    """The minutes of a booking's own period (its buffers left out), in the backend's date arithmetic."""
    if dialect == "postgresql":
        return func.extract("epoch", booking.c.ends_at - booking.c.starts_at) / 60
    return func.round((func.julianday(booking.c.ends_at) - func.julianday(booking.c.starts_at)) * 1440)


def booking_figures(platform: Platform, month: str) -> dict[str, dict[str, float | None]]:
    """Bookings, booked machine-hours and unique bookers of the month by gu code (Seoul under SEOUL),
    small counts suppressed; a gu without a kept booking is absent. Counted in the database (a range
    of `ix_booking_starts_at`), since a busy month holds many thousands of bookings."""
    last_second = month_end(month)  # bookings start on a slot grid of whole minutes
    machine = booking_resource.c.kind == "machine"
    figures = (
        func.count(),
        func.count(booking.c.member_id.distinct()),
        func.count(case((machine, 1))),
        func.coalesce(func.sum(case((machine, _booked_minutes(platform.engine.dialect.name)), else_=0)), 0),
    )
    kept = (
        select(*figures)
        .select_from(booking.join(booking_resource).join(node, node.c.pk == booking_resource.c.node_pk))
        .where(
            booking.c.state.in_(KEPT_STATES),
            booking.c.starts_at >= _month_start(month),
            booking.c.starts_at <= last_second,
            node.c.gu_code.is_not(None),
            node.c.source != "synthetic",
        )
    )
    with platform.engine.connect() as conn:
        rows = conn.execute(kept.add_columns(node.c.gu_code).group_by(node.c.gu_code)).all()
        seoul = conn.execute(kept.add_columns(literal(SEOUL))).one()  # each member once across the gu
    return {
        place: {
            "bookings": _shown(count),
            "booked_machine_hours": None if _shown(machines) is None else round(float(minutes) / 60, 2),
            "unique_bookers": _shown(bookers),
        }
        for count, bookers, machines, minutes, place in [*rows, seoul]
        if count
    }


@lru_cache(maxsize=64)
def _activation(platform: Platform, month: str, _written: str, census: CensusTable) -> dict[str, Any]:
    """`census` brings the latest residents; a statistics import gives a new one, so new figures."""
    until = month_end(month)
    year_before = month_end(f"{int(month[:4]) - 1}{month[4:]}")
    nodes = _nodes(platform)
    now, before = _counts(nodes, until), _counts(nodes, year_before)
    seoul_now = now.get(SEOUL, {})
    gus = sorted(platform.districts.gus(), key=lambda d: d.code)

    def row(code: str, name_ko: str, name_en: str, population: float | None) -> dict[str, Any]:
        figures = _row(now.get(code, {}), before.get(code, {}), seoul_now, population)
        return {"code": code, "name_ko": name_ko, "name_en": name_en, "month": month, **figures}

    residents = f"resident registration population, {period_label(census.residents_period)}"
    return {
        "month": month,
        "as_of": until.isoformat(),
        "method": {**METHOD, "residents": residents},
        "seoul": row(SEOUL, "서울특별시", "Seoul", census.seoul["population"] or None),
        "results": [
            row(gu.code, gu.name_ko, gu.name_en, census.values.get(gu.code, {}).get("population")) for gu in gus
        ],
    }


def activation_trend(platform: Platform, until: str | None = None, months: int = 12) -> dict[str, Any]:
    """Active nodes in Seoul and every gu at the end of each of the `months` months up to `until`."""
    until = until or seoul_month()
    if not 1 <= months <= 120:
        raise ParameterError("months", f"expected 1 to 120, got {months}")
    month_end(until, "until")
    return _activation_trend(platform, until, months, stamps.stamp(platform.engine, stamps.NODES))


@lru_cache(maxsize=64)
def _activation_trend(platform: Platform, until: str, months: int, _written: str) -> dict[str, Any]:
    year, number = (int(part) for part in until.split("-"))
    labels = []
    for back in range(months - 1, -1, -1):
        index = year * 12 + number - 1 - back
        labels.append(f"{index // 12}-{index % 12 + 1:02d}")
    nodes = _nodes(platform)
    counts = [_counts(nodes, month_end(label)) for label in labels]
    places = [(SEOUL, "서울특별시", "Seoul")] + [
        (gu.code, gu.name_ko, gu.name_en) for gu in sorted(platform.districts.gus(), key=lambda d: d.code)
    ]
    series = [
        {"code": code, "name_ko": ko, "name_en": en,
         "active_nodes": [_shown(found.get(code, {}).get("active_nodes", 0)) for found in counts],
         "no_known_start": [_shown(found.get(code, {}).get("no_known_start", 0)) for found in counts]}
        for code, ko, en in places
    ]  # fmt: skip
    return {"months": labels, "method": METHOD, "series": series}
