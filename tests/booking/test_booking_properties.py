"""Property tests of booking's invariants, on both backends.

Whatever members ask, at whatever moments: no two bookings holding time overlap on a unit, nor on a
room and a machine in it; every booking taken lies inside the resource's availability; a booking
moves only along the arrows of its state machine, and a refused move changes nothing; a refund
follows the policy copied onto the booking, not the resource's policy of the day.
"""

from __future__ import annotations

import calendar
import contextlib
import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from builders import BOOKING_NODE, bookable, count_rows, new_user, node_host
from fabcity import audit
from fabcity.booking import availability, qualifications, resources, service
from fabcity.booking.models import BookingIn, ExceptionIn, PassIn, TrainingIn
from fabcity.booking.policy import refund_percent
from fabcity.booking.vocabulary import ARROWS
from fabcity.errors import Conflict, FieldError, Forbidden
from fabcity.storage.schema import booking

NOW = datetime(2027, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 KST
DAY = datetime(2027, 3, 3, 1, tzinfo=UTC)  # Wednesday 10:00 KST
SEOUL = ZoneInfo("Asia/Seoul")
_examples = itertools.count()
_relaxed = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def cast(platform):
    """A host of the node and three members."""
    return node_host(platform), [new_user(platform, f"member{n}", "member") for n in range(3)]


def _live(platform, resource_ids: list[int], now: datetime) -> list:
    with platform.engine.connect() as conn:
        rows = conn.execute(select(booking).where(booking.c.resource_id.in_(resource_ids))).all()
    return [
        row
        for row in rows
        if service.effective_state(row, now) in ("requested", "approved", "payment_due", "confirmed")
    ]


attempts = st.lists(
    st.tuples(
        st.sampled_from(["room", "machine", "desks"]),
        st.integers(0, 7),  # start, in half hours after 10:00: a narrow window, so requests meet
        st.integers(1, 4),  # length, in half hours
        st.integers(0, 2),  # which member
        st.integers(0, 120),  # minutes passing before the attempt
    ),
    min_size=1,
    max_size=8,
)


@_relaxed
@given(attempts=attempts, buffer=st.sampled_from([0, 30]), mode=st.sampled_from(["instant", "approval"]))
def test_no_two_bookings_holding_time_overlap_and_each_lies_inside_availability(cast, platform, attempts, buffer, mode):
    host, members = cast
    common = {"hours": ("10:00", "17:00"), "mode": mode, "buffer_after_min": buffer, "lead_time_min": 0}
    room = bookable(platform, host, kind="room", **common)
    family = {
        "room": room,
        "machine": bookable(platform, host, parent=room["id"], **common),
        "desks": bookable(platform, host, kind="desk", units=["1", "2"], **common),
    }
    maintenance = ExceptionIn(kind="maintenance", starts_at=DAY + timedelta(hours=3), ends_at=DAY + timedelta(hours=4))
    resources.add_exception(platform, host, family["machine"]["id"], maintenance)
    now = NOW
    for which, start, length, member, wait in attempts:
        now += timedelta(minutes=wait)
        starts_at = DAY + timedelta(minutes=30 * start)
        data = BookingIn(
            resource=family[which]["id"],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30 * length),
            idempotency_key=f"{next(_examples)}",
        )
        with contextlib.suppress(Conflict, FieldError):  # refused: the invariants must hold all the same
            service.create_booking(platform, members[member], data, at=now)
        live = _live(platform, [r["id"] for r in family.values()], now)
        for first, second in itertools.combinations(live, 2):
            interlocked = {first.resource_id, second.resource_id} == {room["id"], family["machine"]["id"]}
            if first.unit_id == second.unit_id or interlocked:
                assert not _overlap(first, second), (first, second)
        for row in live:
            with platform.engine.connect() as conn:
                resource = resources.resource_row(conn, row.resource_id)
                periods = service.open_periods_of(conn, resource, DAY - timedelta(days=1), DAY + timedelta(days=1))
            assert availability.covers(periods, resources.utc(row.starts_at), resources.utc(row.ends_at))


def _overlap(first, second) -> bool:
    return resources.utc(first.blocked_start) < resources.utc(second.blocked_end) and resources.utc(
        second.blocked_start
    ) < resources.utc(first.blocked_end)


moves = st.lists(
    st.tuples(
        st.sampled_from(["approve", "decline", "mark_paid", "cancel", "no_show", "complete"]),
        st.sampled_from(["host", "member", "stranger"]),
        st.integers(0, 30),  # hours passing before the move
    ),
    min_size=1,
    max_size=8,
)


@_relaxed
@given(moves=moves, mode=st.sampled_from(["instant", "approval"]), price=st.sampled_from([0, 5000]))
def test_a_booking_moves_only_along_its_arrows_and_a_refused_move_changes_nothing(cast, platform, moves, mode, price):
    host, (member, stranger, _) = cast
    studio = bookable(platform, host, mode=mode, price_per_slot_krw=price, hold_hours=12)
    made = service.create_booking(
        platform,
        member,
        BookingIn(
            resource=studio["id"], starts_at=DAY, ends_at=DAY + timedelta(hours=1), idempotency_key=f"{next(_examples)}"
        ),
        at=NOW,
    )
    people = {"host": host, "member": member, "stranger": stranger}
    now = NOW
    for action, who, hours in moves:
        now += timedelta(hours=hours)
        before = service.get_booking(platform, host, made["id"], at=now)
        try:
            after = service.move_booking(platform, people[who], made["id"], action, at=now)
        except (Conflict, Forbidden):
            assert service.get_booking(platform, host, made["id"], at=now) == before
            continue
        assert after["state"] in ARROWS[before["state"]] or after["state"] in _through_approval(before["state"])
        assert after["version"] > before["version"]
    with platform.engine.connect() as conn:
        for entry in audit.history(conn, "booking", str(made["id"]))[1:]:
            source, target = entry["changes"]["state"]
            assert target in ARROWS[source], entry


def _through_approval(state: str) -> tuple[str, ...]:
    """Approving moves a request on past `approved` in the same transaction (payment due, or confirmed)."""
    return ARROWS["approved"] if state == "requested" else ()


tiers = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 100)), min_size=1, max_size=4)


@_relaxed
@given(promised=tiers, changed=tiers, days_ahead=st.integers(0, 29), hours=st.integers(1, 23))
def test_a_refund_follows_the_policy_copied_at_confirmation(cast, platform, promised, changed, days_ahead, hours):
    host, (member, _, _) = cast
    start = DAY + timedelta(days=30)
    studio = bookable(platform, host, price_per_slot_krw=7000, cancellation_policy=promised, horizon_days=60)
    data = BookingIn(
        resource=studio["id"], starts_at=start, ends_at=start + timedelta(hours=1), idempotency_key=f"{next(_examples)}"
    )
    made = service.create_booking(platform, member, data, at=NOW)
    service.move_booking(platform, host, made["id"], "mark_paid", at=NOW)
    resources.update_resource(platform, host, studio["id"], {"cancellation_policy": changed})
    cancelled_at = start - timedelta(days=days_ahead, hours=hours)
    cancelled = service.move_booking(platform, member, made["id"], "cancel", at=cancelled_at)
    assert cancelled["refund_krw"] == 14_000 * refund_percent(promised, start, cancelled_at) // 100


def _expired_by(passed_on: date, months: int, day: date) -> bool:
    """Whether `months` calendar months after `passed_on` have passed by `day` (a month's end caps the day)."""
    apart = (day.year * 12 + day.month) - (passed_on.year * 12 + passed_on.month)
    last_of_month = calendar.monthrange(day.year, day.month)[1]
    return apart > months or (apart == months and day.day >= min(passed_on.day, last_of_month))


passes = st.lists(st.tuples(st.integers(0, 330), st.booleans()), max_size=3)  # (days after 2026-01-01, revoked)


@_relaxed
@given(passes=passes, valid_months=st.sampled_from([None, 1, 3, 12]), days=st.sets(st.integers(0, 60), max_size=4))
def test_a_booking_is_taken_only_with_a_pass_unrevoked_and_unexpired_on_its_day(
    cast, platform, passes, valid_months, days
):
    host, (member, _, _) = cast
    training = qualifications.create_training(
        platform, host, BOOKING_NODE, TrainingIn(name_ko=f"교육 {next(_examples)}", valid_months=valid_months)
    )
    cutter = bookable(platform, host, horizon_days=365, trainings=[training["id"]])
    held = []
    for offset, revoked in passes:
        passed_on = date(2026, 1, 1) + timedelta(days=offset)
        recorded = qualifications.record_pass(
            platform, host, training["id"], PassIn(email=member.email, passed_on=passed_on)
        )
        if revoked:
            qualifications.revoke(platform, host, recorded["id"], "property")
        else:
            held.append(passed_on)
    taken = 0
    for offset in sorted(days):
        starts_at = DAY + timedelta(days=offset)
        day = starts_at.astimezone(SEOUL).date()
        qualified = any(valid_months is None or not _expired_by(p, valid_months, day) for p in held)
        key = f"{next(_examples)}"
        data = BookingIn(
            resource=cutter["id"], starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), idempotency_key=key
        )
        try:
            service.create_booking(platform, member, data, at=NOW)
        except Conflict as refused:
            assert not qualified and str(refused).startswith("qualification:"), (day, held, valid_months)
            continue
        assert qualified, (day, held, valid_months)
        taken += 1
    assert count_rows(platform, booking, booking.c.resource_id == cutter["id"]) == taken  # a refusal stores nothing


_hold = st.tuples(
    st.sampled_from([1, 2, 3]),  # the resource itself (1), its parent or a child
    st.sampled_from([10, 11]),  # its units
    st.integers(0, 48 * 60),
    st.integers(1, 6 * 60),
)


@settings(max_examples=300, deadline=None)
@given(
    holds=st.lists(_hold, max_size=40),
    slot=st.sampled_from([15, 30, 60]),
    before=st.integers(0, 90),
    after=st.integers(0, 90),
)
def test_the_one_pass_over_a_months_slots_frees_what_checking_each_slot_alone_frees(holds, slot, before, after):
    """free_slots weighs its slots in one pass over the holds; each slot must get the units it would alone."""
    held = [(r, u, DAY + timedelta(minutes=s), DAY + timedelta(minutes=s + n)) for r, u, s, n in holds]
    starts = [DAY + timedelta(minutes=m) for m in range(0, 52 * 60, slot)]
    windows = [(s - timedelta(minutes=before), s + timedelta(minutes=slot + after)) for s in starts]
    one_pass = list(service._free_in_order(1, [10, 11], held, windows))
    alone = [service._free_units(1, [10, 11], held, start, end) for start, end in windows]
    assert one_pass == alone
