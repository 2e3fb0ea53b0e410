"""Activation from bookings: kept bookings, booked machine-hours and unique bookers per gu per month (KST)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from builders import BOOKING_NODE, bookable, new_user, node_host
from fabcity.booking import service
from fabcity.booking.models import BookingIn
from fabcity.clock import KST, seoul_month
from fabcity.measure.activation import activation
from fabcity.storage.schema import node

MARCH = datetime(2027, 3, 10, 10, tzinfo=KST)  # a Wednesday morning in Seoul
BEFORE = datetime(2027, 3, 1, tzinfo=UTC)  # when the bookings are made


def _book(platform, user, resource, start: datetime, hours: float = 1, at: datetime = BEFORE) -> dict:
    end = start + timedelta(hours=hours)
    data = BookingIn(
        resource=resource["id"], starts_at=start, ends_at=end, idempotency_key=f"{resource['id']}-{start}-{user.id}"
    )
    return service.create_booking(platform, user, data, at=at)


def _members(platform, count: int) -> list:
    return [new_user(platform, f"member{i}", "member") for i in range(count)]


def _gu_of_booking_node(platform) -> str:
    with platform.engine.connect() as conn:
        return conn.execute(select(node.c.gu_code).where(node.c.slug == BOOKING_NODE)).scalar_one()


def _place(answer: dict, code: str) -> dict:
    return next(row for row in [answer["seoul"], *answer["results"]] if row["code"] == code)


def test_kept_bookings_machine_hours_and_bookers_are_counted_by_gu_and_month(platform):
    host = node_host(platform)
    cutter, desks = bookable(platform, host), bookable(platform, host, kind="desk", units=["A", "B"])
    asking = bookable(platform, host, mode="approval")
    members = _members(platform, 5)
    for day, member in enumerate(members):
        _book(platform, member, cutter, MARCH + timedelta(days=day), hours=2)
    _book(platform, members[0], desks, MARCH, hours=3)  # a desk: a booking, but no machine-hours
    _book(platform, members[0], asking, MARCH)  # a request not yet answered
    late = new_user(platform, "late", "member")  # a sixth member whose only booking is cancelled
    cancelled = _book(platform, late, cutter, MARCH + timedelta(days=6))
    service.move_booking(platform, late, cancelled["id"], "cancel", at=BEFORE)
    gu = _gu_of_booking_node(platform)

    march = activation(platform, "2027-03")
    for code in (gu, "11"):
        row = _place(march, code)
        assert (row["bookings"], row["booked_machine_hours"], row["unique_bookers"]) == (6, 10, 5)
    elsewhere = next(row for row in march["results"] if row["code"] != gu)
    assert (elsewhere["bookings"], elsewhere["booked_machine_hours"], elsewhere["unique_bookers"]) == (0, 0, 0)
    april = _place(activation(platform, "2027-04"), gu)
    assert (april["bookings"], april["booked_machine_hours"], april["unique_bookers"]) == (0, 0, 0)
    assert "confirmed, completed or a no-show" in march["method"]["bookings"]


def test_seoul_counts_a_member_who_booked_in_two_gu_once(platform):
    here = bookable(platform, node_host(platform))
    eunpyeong = "seoul-innovation-fab-lab"
    there = bookable(platform, node_host(platform, "host2", slug=eunpyeong), node=eunpyeong)
    for day, member in enumerate(_members(platform, 5)):
        _book(platform, member, here, MARCH + timedelta(days=day))
        _book(platform, member, there, MARCH + timedelta(days=day))
    march = activation(platform, "2027-03")
    assert _place(march, "11380")["bookings"] == _place(march, _gu_of_booking_node(platform))["bookings"] == 5
    assert (march["seoul"]["bookings"], march["seoul"]["unique_bookers"]) == (10, 5)


def test_completed_and_no_show_bookings_count_as_kept(platform):
    host = node_host(platform)
    cutter = bookable(platform, host)
    members = _members(platform, 5)
    made = [_book(platform, member, cutter, MARCH + timedelta(days=day)) for day, member in enumerate(members)]
    after = MARCH + timedelta(days=10)
    for booking, action in zip(made, ("complete", "no_show", "complete", "no_show", "complete"), strict=True):
        service.move_booking(platform, host, booking["id"], action, at=after)
    assert _place(activation(platform, "2027-03"), _gu_of_booking_node(platform))["bookings"] == 5


def test_small_cells_are_suppressed_and_zero_stays_zero(platform):
    host = node_host(platform)
    cutter = bookable(platform, host)
    ara, bo = _members(platform, 2)
    for day in range(5):
        _book(platform, (ara, bo)[day % 2], cutter, MARCH + timedelta(days=day), hours=1.5)
    gu = _gu_of_booking_node(platform)
    row = _place(activation(platform, "2027-03"), gu)
    assert row["bookings"] == 5 and row["booked_machine_hours"] == 7.5  # five bookings: shown
    assert row["unique_bookers"] is None and "unique_bookers" in row["suppressed"]  # two people: suppressed

    desks = bookable(platform, host, kind="desk")
    _book(platform, ara, desks, MARCH + timedelta(days=1) + timedelta(days=31))  # one desk booking in April
    april = _place(activation(platform, "2027-04"), gu)
    assert april["bookings"] is None and april["unique_bookers"] is None
    assert april["booked_machine_hours"] == 0  # no machine was booked: nothing to hide
    assert {"bookings", "unique_bookers"} <= set(april["suppressed"])

    cutter_may = MARCH + timedelta(days=61)
    _book(platform, ara, cutter, cutter_may, hours=3, at=cutter_may - timedelta(days=2))
    few = _place(activation(platform, "2027-05"), gu)
    assert few["booked_machine_hours"] is None and "booked_machine_hours" in few["suppressed"]  # from one booking


def test_a_booking_counts_in_the_month_it_starts_in_seoul(platform):
    """23:30 KST on 31 March is still March; 00:00 KST on 1 April is 15:00 UTC on 31 March, yet April."""
    host = node_host(platform)
    desks = bookable(platform, host, kind="desk", units=list("ABCDE"))
    members = _members(platform, 5)
    last_of_march, first_of_april = datetime(2027, 3, 31, 23, 30, tzinfo=KST), datetime(2027, 4, 1, tzinfo=KST)
    for member in members:
        _book(platform, member, desks, last_of_march, hours=1)  # runs over midnight into April
        _book(platform, member, desks, first_of_april + timedelta(minutes=30), hours=0.5)
    gu = _gu_of_booking_node(platform)
    assert _place(activation(platform, "2027-03"), gu)["bookings"] == 5
    assert _place(activation(platform, "2027-04"), gu)["bookings"] == 5


@pytest.fixture
def booked_this_month(platform):
    """Five members who each booked the laser cutter for two hours this month (KST)."""
    host = node_host(platform)
    cutter = bookable(platform, host)
    first = datetime.strptime(seoul_month(), "%Y-%m").replace(day=1, hour=10, tzinfo=KST)
    for day, member in enumerate(_members(platform, 5)):
        _book(
            platform,
            member,
            cutter,
            first + timedelta(days=day % 2, hours=2 * day),
            hours=2,
            at=first - timedelta(days=1),
        )
    return _gu_of_booking_node(platform)


@pytest.mark.parametrize(
    ("lang", "heading", "column"),
    [("ko", "자치구별 예약", "예약된 장비 시간"), ("en", "Bookings by district", "Booked machine-hours")],
)
def test_the_dashboard_shows_the_bookings_of_the_month(client, platform, booked_this_month, lang, heading, column):
    page = client.get("/dashboard", params={"lang": lang}).text
    table = page.split('id="bookings-by-gu"')[1].split("</table>")[0]
    assert heading in page and column in table
    gu = _place(activation(platform), booked_this_month)
    name = gu["name_ko"] if lang == "ko" else gu["name_en"]
    assert f'<th scope="row">{name}</th><td>5</td><td>10</td><td>5</td>' in table
    assert client.get("/api/v1/indicators/activation").json()["seoul"]["booked_machine_hours"] == 10


def test_the_first_and_last_months_the_api_accepts_are_answered(client):
    for month in ("1000-01", "9999-12"):
        answer = client.get("/api/v1/indicators/activation", params={"month": month})
        assert answer.status_code == 200 and answer.json()["seoul"]["bookings"] == 0
