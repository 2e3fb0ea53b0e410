"""When a resource is open: weekly rules in its wall-clock zone, exceptions, Korean public holidays.

Expanded on the server with zoneinfo, so a rule "Mondays 09:00–18:00" means 09:00 on the wall of
the resource's zone on every Monday, across daylight saving changes (a resource abroad) and
whatever the browser's zone. Korean public holidays, lunar and substitute ones included, come from
the `holidays` library; a node whose OSM opening hours say `PH off` is closed on them. The result
is a list of half-open UTC periods; every check at booking and every free slot is read from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from fabcity.booking.vocabulary import CLOSING_EXCEPTIONS

Period = tuple[datetime, datetime]  # UTC, half-open [start, end)

# OSM opening_hours: a rule `PH off` (or `PH closed`) anywhere among the ;-separated rules.
_PUBLIC_HOLIDAYS_OFF = re.compile(r"(?:^|;)\s*PH\s+(?:off|closed)\b")


@dataclass(frozen=True)
class Rule:
    """Open on `weekday` (0 = Monday) from `start_minute` to `end_minute` local, between the validity dates."""

    weekday: int
    start_minute: int
    end_minute: int
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or day >= self.valid_from)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class Exceptional:
    """A period that departs from the weekly rules: a closure, maintenance, an extra opening, an external block."""

    kind: str
    starts_at: datetime
    ends_at: datetime


def closes_on_public_holidays(opening_hours: str | None) -> bool:
    """Whether a node's OSM opening hours say it is closed on public holidays (`PH off`)."""
    return bool(opening_hours and _PUBLIC_HOLIDAYS_OFF.search(opening_hours))


@cache
def _korean_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("KR", years=year))


def is_korean_public_holiday(day: date) -> bool:
    """설날, 추석 and the other Korean public holidays, their substitute days included."""
    return day in _korean_holidays(day.year)


def merged(periods: Iterable[Period]) -> list[Period]:
    """The same time as sorted, non-overlapping periods (touching ones joined)."""
    result: list[Period] = []
    for start, end in sorted(p for p in periods if p[0] < p[1]):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def without(periods: Sequence[Period], cuts: Iterable[Period]) -> list[Period]:
    """`periods` less every moment of `cuts`."""
    left = merged(periods)
    for cut_start, cut_end in merged(cuts):
        kept: list[Period] = []
        for start, end in left:
            if cut_end <= start or end <= cut_start:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        left = kept
    return left


def _local_days(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _wall(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock minute of a day (1440: the next midnight)."""
    local = datetime.combine(day, time.min, tzinfo=zone) + timedelta(minutes=minute)
    return local.astimezone(UTC)


def open_periods(
    zone: ZoneInfo,
    rules: Iterable[Rule],
    exceptions: Iterable[Exceptional],
    closed_on_holidays: bool,
    start: datetime,
    end: datetime,
) -> list[Period]:
    """The periods between `start` and `end` (UTC) in which the resource is open, in order."""
    rules, exceptions = list(rules), list(exceptions)
    weekly = [
        (_wall(day, rule.start_minute, zone), _wall(day, rule.end_minute, zone))
        for day in _local_days(zone, start, end)
        if not (closed_on_holidays and is_korean_public_holiday(day))
        for rule in rules
        if rule.applies_on(day)
    ]
    extra = [(e.starts_at, e.ends_at) for e in exceptions if e.kind == "extra_opening"]
    closing = [(e.starts_at, e.ends_at) for e in exceptions if e.kind in CLOSING_EXCEPTIONS]
    opened = without(merged(weekly + extra), closing)
    return [(max(s, start), min(e, end)) for s, e in opened if s < end and e > start]


def covers(periods: Sequence[Period], start: datetime, end: datetime) -> bool:
    """Whether one of the (merged) periods holds all of [start, end)."""
    return any(s <= start and end <= e for s, e in periods)


def on_grid(moment: datetime, zone: ZoneInfo, granularity_min: int) -> bool:
    """Whether a moment falls on the resource's slot grid: a whole multiple of the slot length after local midnight."""
    local = moment.astimezone(zone)
    return local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % granularity_min == 0


def slots(periods: Sequence[Period], zone: ZoneInfo, granularity_min: int) -> Iterator[Period]:
    """Every grid slot that lies wholly inside one of the periods."""
    step = timedelta(minutes=granularity_min)
    for start, end in periods:
        moment = start.replace(second=0, microsecond=0)
        while moment < start or not on_grid(moment, zone, granularity_min):
            moment += timedelta(minutes=1)
        while moment + step <= end:
            yield moment, moment + step
            moment += step
