"""Availability expands on the server in the resource's wall-clock zone: across daylight saving, across 설날."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fabcity.booking.availability import Exceptional, Rule, closes_on_public_holidays, covers, open_periods, slots


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_berlin_rule_keeps_its_wall_clock_hours_across_the_change_to_summer_time():
    berlin = ZoneInfo("Europe/Berlin")  # summer time from 2027-03-28 02:00
    rules = [Rule(weekday, 9 * 60, 17 * 60) for weekday in range(7)]
    periods = open_periods(berlin, rules, [], False, _utc(2027, 3, 27), _utc(2027, 3, 30))
    assert periods == [
        (_utc(2027, 3, 27, 8), _utc(2027, 3, 27, 16)),  # CET, UTC+1
        (_utc(2027, 3, 28, 7), _utc(2027, 3, 28, 15)),  # CEST, UTC+2
        (_utc(2027, 3, 29, 7), _utc(2027, 3, 29, 15)),
    ]
    first_slots = [start for start, _ in slots(periods, berlin, 60)][:2]
    assert first_slots == [_utc(2027, 3, 27, 8), _utc(2027, 3, 27, 9)]


def test_a_berlin_rule_over_the_night_of_the_change_back_is_one_hour_longer():
    berlin = ZoneInfo("Europe/Berlin")  # back to winter time on 2027-10-31 03:00
    periods = open_periods(berlin, [Rule(6, 0, 1440)], [], False, _utc(2027, 10, 30), _utc(2027, 11, 2))
    assert periods == [(_utc(2027, 10, 30, 22), _utc(2027, 10, 31, 23))]  # 25 hours
    assert len(list(slots(periods, berlin, 60))) == 25


def test_a_node_closed_on_public_holidays_is_closed_over_seollal_and_its_substitute_day():
    seoul = ZoneInfo("Asia/Seoul")  # 설날 2027: 6–8 February, the 9th in lieu of the Sunday
    rules = [Rule(weekday, 10 * 60, 18 * 60) for weekday in range(7)]
    start, end = _utc(2027, 2, 4, 15), _utc(2027, 2, 10, 15)  # 5 to 10 February, KST
    closed = open_periods(seoul, rules, [], True, start, end)
    assert [period[0].astimezone(seoul).date() for period in closed] == [date(2027, 2, 5), date(2027, 2, 10)]
    opened = open_periods(seoul, rules, [], False, start, end)
    assert len(opened) == 6


def test_osm_hours_close_on_public_holidays_only_when_they_say_ph_off():
    assert closes_on_public_holidays("Mo-Fr 10:00-18:00; PH off")
    assert closes_on_public_holidays("PH closed")
    assert not closes_on_public_holidays("Mo-Fr 10:00-18:00")
    assert not closes_on_public_holidays(None)


def test_exceptions_close_and_open_time_against_the_weekly_rules():
    seoul = ZoneInfo("Asia/Seoul")
    rules = [Rule(2, 10 * 60, 18 * 60)]  # Wednesdays, 10:00–18:00 KST = 01:00–09:00 UTC
    exceptions = [
        Exceptional("maintenance", _utc(2027, 3, 3, 3), _utc(2027, 3, 3, 4)),
        Exceptional("extra_opening", _utc(2027, 3, 4, 1), _utc(2027, 3, 4, 2)),
    ]
    periods = open_periods(seoul, rules, exceptions, False, _utc(2027, 3, 2), _utc(2027, 3, 5))
    assert periods == [
        (_utc(2027, 3, 3, 1), _utc(2027, 3, 3, 3)),
        (_utc(2027, 3, 3, 4), _utc(2027, 3, 3, 9)),
        (_utc(2027, 3, 4, 1), _utc(2027, 3, 4, 2)),
    ]
    assert covers(periods, _utc(2027, 3, 3, 1), _utc(2027, 3, 3, 3))
    assert not covers(periods, _utc(2027, 3, 3, 2), _utc(2027, 3, 3, 5))
