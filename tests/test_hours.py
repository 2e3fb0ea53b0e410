"""Opening hours as hosts write them in Korean, as the form's weekday rows, and as pages show them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabcity.directory.hours import DAYS, Week, clock_of, describe, holidays_of, to_osm, week_hours, week_of


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("화-토 10시-18시", "Tu-Sa 10:00-18:00"),
        ("월-금 10:00-18:00", "Mo-Fr 10:00-18:00"),
        ("연중무휴", "24/7"),
        ("공휴일 휴무", "PH off"),
        ("월-금 10시-18시, 토 10시-14시", "Mo-Fr 10:00-18:00; Sa 10:00-14:00"),
        ("화-토 10시-18시, 공휴일 휴무", "Tu-Sa 10:00-18:00; PH off"),
        ("화-토 10시-18시 (공휴일 휴무)", "Tu-Sa 10:00-18:00; PH off"),
        ("월~금 9시반-오후 6시, 토요일은 휴무", "Mo-Fr 09:30-18:00; Sa off"),
        ("연중무휴 10시-18시", "Mo-Su 10:00-18:00"),
        ("월·수·금 10:00–17:00", "Mo,We,Fr 10:00-17:00"),
        ("평일 10:00-12:00, 13:00-18:00", "Mo-Fr 10:00-12:00,13:00-18:00"),
        ("Tu-Sa 10:00-18:00; PH off", "Tu-Sa 10:00-18:00; PH off"),
    ],
)
def test_hours_written_in_korean_are_stored_in_openstreetmap_syntax(written, stored):
    assert to_osm(written) == stored


@pytest.mark.parametrize("written", ["whenever", "월-금 10시", "예약제", "10시-18시-20시", "월-금 25:00-26:00"])
def test_hours_that_cannot_be_read_are_refused_with_a_hint(written):
    with pytest.raises(ValueError, match="월-금 10:00-18:00"):
        to_osm(written)


@pytest.mark.parametrize(
    ("stored", "korean", "english"),
    [
        ("Tu-Sa 10:00-18:00; PH off", ["화–토 10:00–18:00", "공휴일 휴무"],
         ["Tue–Sat 10:00–18:00", "Public holidays closed"]),
        ("Mo,We,Fr 10:00-17:00; Su off", ["월·수·금 10:00–17:00", "일 휴무"],
         ["Mon, Wed, Fri 10:00–17:00", "Sun closed"]),
        ("24/7", ["연중무휴 24시간"], ["Open 24/7"]),
        ("Mo-Fr 10:00-12:00,13:00-18:00", ["월–금 10:00–12:00, 13:00–18:00"], ["Mon–Fri 10:00–12:00, 13:00–18:00"]),
        (None, [], []),
    ],
)  # fmt: skip
def test_stored_hours_are_shown_in_the_pages_language(stored, korean, english):
    assert describe(stored, "ko") == korean
    assert describe(stored, "en") == english


def test_a_row_takes_times_as_people_type_them():
    assert [clock_of(t) for t in ("10", "10시", "오후 6시", "9:30", "10시 30분", "24:00")] == [
        "10:00", "10:00", "18:00", "09:30", "10:30", "24:00"
    ]  # fmt: skip
    for wrong in ("25:00", "10:75", "점심", "24:30"):
        with pytest.raises(ValueError):
            clock_of(wrong)
    notes = ("휴무", "closed", "공휴일 휴무", "10시-14시")
    assert [holidays_of(note) for note in notes] == ["off", "off", "off", "10:00-14:00"]


def test_hours_beyond_the_rows_are_not_forced_into_them():
    assert week_of("Mo-Fr 10:00-12:00,13:00-18:00") is None  # a lunch break
    assert week_of("Jan-Mar Mo-Fr 10:00-18:00") is None
    assert week_of(None) == Week(dict.fromkeys(DAYS))


_TIMES = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
_SPANS = st.tuples(_TIMES, _TIMES | st.just("24:00")).filter(lambda span: span[0] != span[1])
_WEEKS = st.builds(
    Week,
    st.fixed_dictionaries({day: st.none() | _SPANS for day in DAYS}),
    st.none() | st.just("off") | _SPANS.map("-".join),
)


@settings(deadline=None)
@given(_WEEKS)
def test_rows_written_as_hours_read_back_as_the_same_rows(week):
    hours = week_hours(week)
    if hours is None:
        assert all(span is None for span in week.days.values()) and week.holidays is None
        return
    assert to_osm(hours) == hours  # valid, and already as stored
    assert week_of(hours) == week


@settings(deadline=None)
@given(_WEEKS)
def test_hours_shown_in_korean_can_be_typed_back_in(week):
    hours = week_hours(week)
    if hours is not None:
        assert to_osm(", ".join(describe(hours, "ko"))) == hours
