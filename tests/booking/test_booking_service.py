"""Booking's services on both backends: no slot sold twice, every rule checked on the server, moves by their arrows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from builders import BOOKING_NODE, bookable, count_rows, new_user, node_host
from fabcity import audit
from fabcity.booking import resources, service
from fabcity.booking.models import BookingIn, ExceptionIn
from fabcity.errors import Conflict, FieldError, Forbidden
from fabcity.storage.schema import booking, node

NOW = datetime(2027, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Seoul
DAY = datetime(2027, 3, 3, 1, tzinfo=UTC)  # Wednesday 10:00 KST


def _at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def _book(platform, user, resource, start, end, key=None, at=NOW):
    data = BookingIn(resource=resource["id"], starts_at=start, ends_at=end, idempotency_key=key or f"{start}{user.id}")
    return service.create_booking(platform, user, data, at=at)


@pytest.fixture
def people(platform):
    return node_host(platform), new_user(platform, "ara", "member"), new_user(platform, "bo", "member")


def test_an_overlapping_booking_is_refused_and_back_to_back_ones_are_not(platform, people):
    host, ara, bo = people
    cutter = bookable(platform, host)
    first = _book(platform, ara, cutter, _at(0), _at(2))
    assert first["state"] == "confirmed"
    with pytest.raises(Conflict, match="slot was just taken"):
        _book(platform, bo, cutter, _at(1), _at(3))
    assert _book(platform, bo, cutter, _at(2), _at(3))["state"] == "confirmed"
    assert count_rows(platform, booking) == 2


def test_buffers_keep_the_time_around_a_booking(platform, people):
    host, ara, bo = people
    cutter = bookable(platform, host, buffer_after_min=30)
    _book(platform, ara, cutter, _at(0), _at(1))
    with pytest.raises(Conflict):
        _book(platform, bo, cutter, _at(1), _at(2))
    _book(platform, bo, cutter, _at(1.5), _at(2))


def test_each_unit_takes_one_booking_at_a_time(platform, people):
    host, ara, bo = people
    desks = bookable(platform, host, kind="desk", units=["A", "B"])
    units = {_book(platform, user, desks, _at(0), _at(1))["unit"] for user in (ara, bo)}
    assert units == {"A", "B"}
    with pytest.raises(Conflict):
        _book(platform, new_user(platform, "cy", "member"), desks, _at(0), _at(1))


def test_a_room_and_the_machines_in_it_hold_each_other(platform, people):
    host, ara, bo = people
    room = bookable(platform, host, kind="room")
    machine = bookable(platform, host, parent=room["id"])
    _book(platform, ara, room, _at(0), _at(1))
    with pytest.raises(Conflict):
        _book(platform, bo, machine, _at(0.5), _at(1.5))
    _book(platform, bo, machine, _at(2), _at(3))
    with pytest.raises(Conflict):
        _book(platform, ara, room, _at(2.5), _at(3.5), key="room-later")


def _closed_on_holidays(platform):
    with platform.engine.begin() as conn:
        conn.execute(update(node).where(node.c.slug == BOOKING_NODE).values(opening_hours="Mo-Su 00:00-24:00; PH off"))


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("outside the hours", "starts_at"),
        ("in maintenance", "starts_at"),
        ("on 삼일절 with PH off", "starts_at"),
        ("off the grid", "starts_at"),
        ("not whole slots", "ends_at"),
        ("too short", "ends_at"),
        ("too long", "ends_at"),
        ("within the lead time", "starts_at"),
        ("past the horizon", "starts_at"),
        ("retired", "resource"),
    ],
)
def test_a_booking_breaking_a_rule_is_refused_naming_why_and_nothing_is_stored(platform, people, case, field):
    host, ara, _ = people
    cutter = bookable(platform, host, hours=("09:00", "18:00"), min_duration_min=60, horizon_days=30)
    start, end, at = _at(0), _at(1), NOW
    if case == "outside the hours":
        start, end = _at(8.5), _at(9.5)  # 18:30 KST
    elif case == "in maintenance":
        maintenance = ExceptionIn(kind="maintenance", starts_at=_at(0.5), ends_at=_at(1.5))
        resources.add_exception(platform, host, cutter["id"], maintenance)
    elif case == "on 삼일절 with PH off":
        _closed_on_holidays(platform)
        start, end, at = datetime(2027, 3, 1, 1, tzinfo=UTC), datetime(2027, 3, 1, 2, tzinfo=UTC), NOW - timedelta(2)
    elif case == "off the grid":
        start, end = _at(0.25), _at(1.25)
    elif case == "not whole slots":
        end = _at(1.25)
    elif case == "too short":
        end = _at(0.5)
    elif case == "too long":
        end = _at(5)
    elif case == "within the lead time":
        at = start - timedelta(minutes=30)
    elif case == "past the horizon":
        at = start - timedelta(days=31)
    else:
        resources.retire_resource(platform, host, cutter["id"])
    with pytest.raises((FieldError, Conflict)) as refused:
        _book(platform, ara, cutter, start, end, at=at)
    assert str(refused.value).startswith(f"{field}:")
    assert count_rows(platform, booking) == 0


def test_the_same_key_twice_gives_the_first_booking(platform, people):
    host, ara, _ = people
    cutter = bookable(platform, host)
    first = _book(platform, ara, cutter, _at(0), _at(1), key="k-1")
    again = _book(platform, ara, cutter, _at(3), _at(4), key="k-1")
    assert again["id"] == first["id"] and count_rows(platform, booking) == 1


def test_a_request_is_approved_paid_and_cancelled_with_the_refund_of_its_copied_policy(platform, people):
    host, ara, _ = people
    studio = bookable(platform, host, kind="room", mode="approval", price_per_slot_krw=5000)
    start = DAY + timedelta(days=10)
    asked = _book(platform, ara, studio, start, start + timedelta(hours=1))
    assert (asked["state"], asked["price_krw"]) == ("requested", 10_000)
    due = service.move_booking(platform, host, asked["id"], "approve", "ok", at=NOW + timedelta(hours=1))
    assert due["state"] == "payment_due"
    paid = service.move_booking(platform, host, asked["id"], "mark_paid", at=NOW + timedelta(hours=2))
    assert (paid["state"], paid["policy"]) == ("confirmed", [[7, 100], [3, 50], [0, 0]])
    resources.update_resource(platform, host, studio["id"], {"cancellation_policy": [[0, 0]]})
    cancelled = service.move_booking(platform, ara, asked["id"], "cancel", at=start - timedelta(days=5))
    assert (cancelled["state"], cancelled["refund_krw"]) == ("cancelled_by_member", 5_000)
    with platform.engine.connect() as conn:
        trail = [entry["changes"]["state"] for entry in audit.history(conn, "booking", str(asked["id"]))]
    assert trail == [
        [None, "requested"],
        ["requested", "approved"],
        ["approved", "payment_due"],
        ["payment_due", "confirmed"],
        ["confirmed", "cancelled_by_member"],
    ]


def test_a_hosts_cancellation_pays_everything_back(platform, people):
    host, ara, _ = people
    studio = bookable(platform, host, price_per_slot_krw=3000)
    made = _book(platform, ara, studio, _at(0), _at(1))
    service.move_booking(platform, host, made["id"], "mark_paid", at=NOW)
    cancelled = service.move_booking(platform, host, made["id"], "cancel", "broken", at=_at(-1))
    assert (cancelled["state"], cancelled["refund_krw"]) == ("cancelled_by_host", 6000)


def test_illegal_moves_are_refused_and_change_nothing(platform, people):
    host, ara, bo = people
    studio = bookable(platform, host, mode="approval", price_per_slot_krw=1000)
    expired = _book(platform, ara, studio, _at(0), _at(1))
    later = NOW + timedelta(hours=4)  # past the 3-hour hold
    with pytest.raises(Conflict, match="expired"):
        service.move_booking(platform, host, expired["id"], "approve", at=later)
    declined = _book(platform, ara, studio, _at(2), _at(3))
    service.move_booking(platform, host, declined["id"], "decline", at=NOW)
    with pytest.raises(Conflict, match="declined"):
        service.move_booking(platform, host, declined["id"], "mark_paid", at=NOW)
    cancelled = _book(platform, ara, studio, _at(4), _at(5))
    service.move_booking(platform, ara, cancelled["id"], "cancel", at=NOW)
    with pytest.raises(Conflict):
        service.move_booking(platform, ara, cancelled["id"], "cancel", at=NOW)
    with pytest.raises(Forbidden):
        service.move_booking(platform, bo, declined["id"], "cancel", at=NOW)
    with pytest.raises(Forbidden):
        service.move_booking(platform, ara, expired["id"], "approve", at=NOW)
    states = {b["id"]: b["state"] for b in service.my_bookings(platform, ara, at=later)}
    assert states == {expired["id"]: "expired", declined["id"]: "declined", cancelled["id"]: "cancelled_by_member"}


def test_an_expired_request_frees_its_slot(platform, people):
    host, ara, bo = people
    studio = bookable(platform, host, mode="approval")
    first = _book(platform, ara, studio, _at(0), _at(1))
    taken = _book(platform, bo, studio, _at(0), _at(1), at=NOW + timedelta(hours=3))
    assert taken["state"] == "requested"
    assert service.get_booking(platform, ara, first["id"], at=NOW)["state"] == "expired"


def test_free_slots_leave_out_what_is_booked_with_its_buffers(platform, people):
    host, ara, _ = people
    cutter = bookable(platform, host, hours=("10:00", "13:00"), buffer_after_min=30)
    _book(platform, ara, cutter, _at(0), _at(1))
    free = service.free_slots(platform, cutter["id"], _at(0), _at(3), at=NOW)["slots"]
    assert [slot["starts_at"] for slot in free] == [_at(1.5), _at(2), _at(2.5)]


def test_only_the_nodes_hosts_and_curators_manage_its_resources(platform, people):
    host, ara, _ = people
    other_host = new_user(platform, "dan", "host")
    cutter = bookable(platform, host)
    for user in (ara, other_host):
        with pytest.raises(Forbidden):
            resources.update_resource(platform, user, cutter["id"], {"price_per_slot_krw": 1})
    curator = new_user(platform, "eun", "curator")
    assert resources.update_resource(platform, curator, cutter["id"], {"price_per_slot_krw": 1})["version"] > 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite serialises the writes instead
def test_postgresql_itself_refuses_two_blocking_bookings_of_a_unit_at_one_time(platform, people):
    from sqlalchemy.exc import IntegrityError

    host, ara, bo = people
    cutter = bookable(platform, host)
    made = _book(platform, ara, cutter, _at(0), _at(1))
    with platform.engine.connect() as conn:
        row = conn.execute(select(booking).where(booking.c.id == made["id"])).mappings().one()
    copy = {key: value for key, value in row.items() if key != "id"} | {"member_id": bo.id, "idempotency_key": "x"}
    with pytest.raises(IntegrityError, match="ex_booking_unit_blocked"), platform.engine.begin() as conn:
        conn.execute(insert(booking).values(copy))
