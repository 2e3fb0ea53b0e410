"""Bookings: made by members, decided by hosts, every move a compare-and-swap with its audit record.

At create, on the server, in one transaction that holds the resource's family (booking.store):
the resource is not retired; the period is on the slot grid, a whole number of slots within the
minimum and maximum duration, after the lead time and within the horizon; it lies inside the
resource's availability (rules, exceptions, holidays); no unit of the parent or of a child is
held then; and a unit of the resource is free for it with the buffers. The same member sending the
same idempotency key again gets the first booking back.

States (booking.vocabulary.ARROWS): a request (approval mode) holds its slot for `hold_hours`;
approved, it is confirmed at once when free, else payment is due within another `hold_hours`;
instant mode skips the request. A hold past its time reads as expired, whoever reads it, and the
next booking of that resource family writes it so. The cancellation policy is copied onto the
booking when it is confirmed; a refund is computed from that copy.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Row, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from fabcity import audit
from fabcity.accounts.service import User
from fabcity.booking import availability, notices, qualifications, store
from fabcity.booking.models import BookingIn, Payment
from fabcity.booking.policy import price, refund_krw, refund_percent
from fabcity.booking.resources import (
    exception_of,
    exceptions_of,
    may_manage,
    require,
    resource_row,
    rule_of,
    rules_of,
    utc,
)
from fabcity.booking.vocabulary import BLOCKING, HOLDING, STATES
from fabcity.errors import Conflict, FieldError, Forbidden, NotFound, ParameterError, PreconditionFailed
from fabcity.platform import Platform
from fabcity.storage.schema import (
    availability_exception,
    availability_rule,
    booking,
    booking_resource,
    booking_unit,
    node,
)

MAX_SLOT_RANGE = timedelta(days=62)  # free slots are asked for at most two months at once


def _now(at: datetime | None) -> datetime:
    return (at or datetime.now(UTC)).astimezone(UTC)


def effective_state(row: Row, now: datetime) -> str:
    """The state as of `now`: a hold past its time is expired even before anything writes it so."""
    if row.state in HOLDING and row.hold_expires_at is not None and utc(row.hold_expires_at) <= now:
        return "expired"
    return row.state


def _public(conn: Connection, row: Row, now: datetime) -> dict[str, Any]:
    label = conn.execute(select(booking_unit.c.label).where(booking_unit.c.id == row.unit_id)).scalar_one()
    return {
        "id": row.id,
        "resource": row.resource_id,
        "unit": label,
        "member": row.member_id,
        "starts_at": utc(row.starts_at),
        "ends_at": utc(row.ends_at),
        "state": effective_state(row, now),
        "hold_expires_at": utc(row.hold_expires_at),
        "price_krw": row.price_krw,
        "policy": row.policy,
        "refund_krw": row.refund_krw,
        "created_at": utc(row.created_at),
        "updated_at": utc(row.updated_at),
        "version": row.version,
    }


def _row(conn: Connection, booking_id: int) -> Row:
    row = conn.execute(select(booking).where(booking.c.id == booking_id)).first()
    if row is None:
        raise NotFound(f"no booking {booking_id}")
    return row


# --------------------------------------------------------------------------------------------
# what may be booked


def _family(conn: Connection, resource: Row) -> list[int]:
    """The resource, its parent and its children: a booking of one holds the others at that time."""
    children = select(booking_resource.c.id).where(booking_resource.c.parent_id == resource.id)
    ids = {resource.id, *conn.execute(children).scalars()}
    if resource.parent_id is not None:
        ids.add(resource.parent_id)
    return sorted(ids)


def open_periods_of(conn: Connection, resource: Row, start: datetime, end: datetime) -> list[availability.Period]:
    """When the resource is open between `start` and `end`: its rules, exceptions and its node's holidays."""
    hours = conn.execute(select(node.c.opening_hours).where(node.c.pk == resource.node_pk)).scalar_one()
    return availability.open_periods(
        ZoneInfo(resource.time_zone),
        rules_of(conn, resource.id),
        exceptions_of(conn, resource.id, start, end),
        availability.closes_on_public_holidays(hours),
        start,
        end,
    )


def _check_request(
    conn: Connection,
    resource: Row,
    data: BookingIn,
    now: datetime,
    opening: Callable[[], list[availability.Period]] | None = None,
) -> None:
    """Everything about the period itself, refused with the reason and the field it concerns.
    `opening`: the resource's open periods for the request, when the caller read them in bulk."""
    if resource.retired_at is not None:
        raise Conflict("resource: this resource is retired and takes no new bookings")
    start, end = data.starts_at, data.ends_at
    minutes = (end - start) / timedelta(minutes=1)
    granularity = resource.granularity_min
    if end <= start:
        raise FieldError("ends_at", "must be after starts_at")
    if not availability.on_grid(start, ZoneInfo(resource.time_zone), granularity):
        raise FieldError("starts_at", f"must fall on the {granularity}-minute slot grid of the resource's local time")
    if minutes % granularity:
        raise FieldError("ends_at", f"the duration must be a whole number of {granularity}-minute slots")
    if not resource.min_duration_min <= minutes <= resource.max_duration_min:
        limits = f"{resource.min_duration_min} to {resource.max_duration_min} minutes"
        raise FieldError("ends_at", f"the duration must be {limits}")
    if start < now + timedelta(minutes=resource.lead_time_min):
        raise FieldError("starts_at", f"must be at least {resource.lead_time_min} minutes from now")
    if start > now + timedelta(days=resource.horizon_days):
        raise FieldError("starts_at", f"must be at most {resource.horizon_days} days from now")
    periods = opening() if opening else open_periods_of(conn, resource, start, end)
    if not availability.covers(periods, start, end):
        raise Conflict("starts_at: the resource is not open for all of this period (hours, closures, holidays)")


def _expire_stale_holds(conn: Connection, family: list[int], now: datetime) -> None:
    """Holds past their time are written expired before the check, so they neither block nor trip the constraint."""
    stale = and_(
        booking.c.resource_id.in_(family),
        booking.c.state.in_(HOLDING),
        booking.c.hold_expires_at <= now,
    )
    for booking_id, state in conn.execute(select(booking.c.id, booking.c.state).where(stale)).all():
        conn.execute(
            update(booking)
            .where(booking.c.id == booking_id)
            .values(state="expired", version=booking.c.version + 1, updated_at=now)
        )
        audit.record(conn, None, "booking.expire", "booking", str(booking_id), {"state": [state, "expired"]}, now)


def _blocking(now: datetime) -> ColumnElement[bool]:
    """The condition for a booking that holds its time as of `now`."""
    live_hold = or_(booking.c.hold_expires_at.is_(None), booking.c.hold_expires_at > now)
    return and_(booking.c.state.in_(BLOCKING), or_(booking.c.state.not_in(HOLDING), live_hold))


Held = list[tuple[int, int, datetime, datetime]]


def _held_periods(conn: Connection, resource_ids: list[int], start: datetime, end: datetime, now: datetime) -> Held:
    """(resource, unit, blocked start, blocked end) of the bookings holding time in [start, end) on these resources."""
    query = select(booking.c.resource_id, booking.c.unit_id, booking.c.blocked_start, booking.c.blocked_end).where(
        booking.c.resource_id.in_(resource_ids),
        booking.c.blocked_start < end,
        booking.c.blocked_end > start,
        _blocking(now),
    )
    return [(r, u, utc(s), utc(e)) for r, u, s, e in conn.execute(query)]


def _units(conn: Connection, resource_id: int) -> list[int]:
    query = select(booking_unit.c.id).where(booking_unit.c.resource_id == resource_id).order_by(booking_unit.c.id)
    return list(conn.execute(query).scalars())


def _free_units(resource_id: int, units: list[int], held: Held, start: datetime, end: datetime) -> list[int]:
    """The units of the resource free for the blocked period [start, end); none when a family member is held then."""
    clashing = [(r, u) for r, u, s, e in held if store.overlaps(start, end, s, e)]
    if any(r != resource_id for r, _ in clashing):
        return []
    taken = {u for _, u in clashing}
    return [unit for unit in units if unit not in taken]


def _blocked(resource: Row, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    return start - timedelta(minutes=resource.buffer_before_min), end + timedelta(minutes=resource.buffer_after_min)


# --------------------------------------------------------------------------------------------
# making a booking


def _by_key(conn: Connection, member_id: int, key: str) -> Row | None:
    query = select(booking).where(booking.c.member_id == member_id, booking.c.idempotency_key == key)
    return conn.execute(query).first()


def _first_state(resource: Row, booking_price: int) -> str:
    if resource.mode == "approval":
        return "requested"
    return "payment_due" if booking_price else "confirmed"


def create_booking(platform: Platform, user: User | None, data: BookingIn, at: datetime | None = None) -> dict:
    """Book one unit of a resource for the member, or refuse with the reason; see the module's docstring."""
    require(user is not None, user)
    now = _now(at)
    try:
        with store.taken_is_a_conflict(), platform.engine.begin() as conn:
            store.begin_write(conn)
            resource = resource_row(conn, data.resource)
            family = _family(conn, resource)
            store.lock_resources(conn, family)
            # Looked up once the family is held: a repeat sent while the first was being written then finds it.
            if (first := _by_key(conn, user.id, data.idempotency_key)) is not None:
                return _public(conn, first, now)
            _check_request(conn, resource, data, now)
            qualifications.refuse_unqualified(conn, user.id, resource.id, data.starts_at)
            _expire_stale_holds(conn, family, now)
            blocked_start, blocked_end = _blocked(resource, data.starts_at, data.ends_at)
            held = _held_periods(conn, family, blocked_start, blocked_end, now)
            free = _free_units(resource.id, _units(conn, resource.id), held, blocked_start, blocked_end)
            if not free:
                raise Conflict(store.SLOT_TAKEN)
            minutes = int((data.ends_at - data.starts_at) / timedelta(minutes=1))
            booking_price = price(resource.price_per_slot_krw, minutes, resource.granularity_min)
            state = _first_state(resource, booking_price)
            values = {
                "resource_id": resource.id,
                "unit_id": free[0],
                "member_id": user.id,
                "starts_at": data.starts_at,
                "ends_at": data.ends_at,
                "blocked_start": blocked_start,
                "blocked_end": blocked_end,
                "state": state,
                "hold_expires_at": None if state == "confirmed" else now + timedelta(hours=resource.hold_hours),
                "idempotency_key": data.idempotency_key,
                "price_krw": booking_price,
                "policy": resource.cancellation_policy if state == "confirmed" else None,
                "created_at": now,
                "updated_at": now,
            }
            booking_id = conn.execute(insert(booking).values(values).returning(booking.c.id)).scalar_one()
            changes = {"state": [None, state], "resource": [None, resource.id], "unit": [None, free[0]]}
            audit.record(conn, user.id, "booking.create", "booking", str(booking_id), changes, now)
            row = _row(conn, booking_id)
            notices.booked(conn, row)
            return _public(conn, row, now)
    except IntegrityError as error:
        if store.is_slot_taken(error) or "idempotency_key" not in str(error.orig):
            raise
    # The same member and key arrived twice at once: the other request stored the booking first.
    with platform.engine.connect() as conn:
        return _public(conn, _by_key(conn, user.id, data.idempotency_key), now)


# --------------------------------------------------------------------------------------------
# reading


def get_booking(platform: Platform, user: User | None, booking_id: int, at: datetime | None = None) -> dict:
    """A booking, for its member and for those who manage its resource."""
    require(user is not None, user)
    with platform.engine.connect() as conn:
        row = _row(conn, booking_id)
        if row.member_id != user.id and not may_manage(conn, user, resource_row(conn, row.resource_id)):
            raise Forbidden()
        return _public(conn, row, _now(at))


def my_bookings(platform: Platform, user: User | None, at: datetime | None = None) -> list[dict]:
    """The member's own bookings, the latest start first."""
    require(user is not None, user)
    now = _now(at)
    with platform.engine.connect() as conn:
        query = select(booking).where(booking.c.member_id == user.id).order_by(booking.c.starts_at.desc(), "id")
        return [_public(conn, row, now) for row in conn.execute(query).all()]


def free_slots(
    platform: Platform, resource_id: int, start: datetime, end: datetime, at: datetime | None = None
) -> dict[str, Any]:
    """The slots of [start, end) in which a booking of one slot could be made now, with how many units are free."""
    now = _now(at)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ParameterError("to", "must be after from")
    if end - start > MAX_SLOT_RANGE:
        raise ParameterError("to", f"at most {MAX_SLOT_RANGE.days} days after from")
    with platform.engine.connect() as conn:
        resource = resource_row(conn, resource_id)
        answer: dict[str, Any] = {"resource": resource.id, "granularity_min": resource.granularity_min, "slots": []}
        if resource.retired_at is not None:
            return answer
        start = max(start, now + timedelta(minutes=resource.lead_time_min))
        end = min(end, now + timedelta(days=resource.horizon_days, minutes=resource.granularity_min))
        if end <= start:
            return answer
        zone = ZoneInfo(resource.time_zone)
        periods = open_periods_of(conn, resource, start, end)
        family = _family(conn, resource)
        units = _units(conn, resource.id)
        held = _held_periods(conn, family, *_blocked(resource, start, end), now)
        slots = list(availability.slots(periods, zone, resource.granularity_min))
        windows = [_blocked(resource, slot_start, slot_end) for slot_start, slot_end in slots]
        for (slot_start, slot_end), free in zip(slots, _free_in_order(resource.id, units, held, windows), strict=True):
            if free:
                answer["slots"].append({"starts_at": slot_start, "ends_at": slot_end, "free_units": len(free)})
    return answer


def _free_in_order(
    resource_id: int, units: list[int], held: Held, windows: Iterable[tuple[datetime, datetime]]
) -> Iterator[list[int]]:
    """_free_units of each window, for windows whose starts and ends both rise (a resource's slots): one
    pass over the holds sorted by start, each window weighed only against the holds that reach into it,
    so a month of slots against thousands of holds stays linear."""
    pending = sorted(held, key=lambda hold: hold[2])
    active: Held = []
    taken = 0
    for start, end in windows:
        while taken < len(pending) and pending[taken][2] < end:
            active.append(pending[taken])
            taken += 1
        active = [hold for hold in active if hold[3] > start]
        yield _free_units(resource_id, units, active, start, end)


def units_free_for(conn: Connection, resource: Row, start: datetime, end: datetime, now: datetime) -> list[int]:
    """The units a booking of [start, end) could take as of `now`: the checks of create_booking, read only."""
    return units_free_for_each(conn, [resource], start, end, now)[resource.id]


def units_free_for_each(
    conn: Connection, resources: Sequence[Row], start: datetime, end: datetime, now: datetime
) -> dict[int, list[int]]:
    """units_free_for of several resources, with what the checks read fetched for all of them at once
    (a search asks this of many resources): the same _check_request, the same holds of each family."""
    if not resources:
        return {}
    ids = sorted({resource.id for resource in resources})
    node_pks = {resource.node_pk for resource in resources}
    hours = dict(conn.execute(select(node.c.pk, node.c.opening_hours).where(node.c.pk.in_(node_pks))).all())
    rules: dict[int, list[availability.Rule]] = {}
    for row in conn.execute(select(availability_rule).where(availability_rule.c.resource_id.in_(ids))):
        rules.setdefault(row.resource_id, []).append(rule_of(row))
    exceptions: dict[int, list[availability.Exceptional]] = {}
    touching = select(availability_exception).where(
        availability_exception.c.resource_id.in_(ids),
        availability_exception.c.starts_at < end,
        availability_exception.c.ends_at > start,
    )
    for row in conn.execute(touching):
        exceptions.setdefault(row.resource_id, []).append(exception_of(row))
    families = {resource.id: {resource.id, resource.parent_id} - {None} for resource in resources}
    children = select(booking_resource.c.id, booking_resource.c.parent_id).where(booking_resource.c.parent_id.in_(ids))
    for child, parent in conn.execute(children):
        families[parent].add(child)
    units: dict[int, list[int]] = {}
    for resource_id, unit in conn.execute(
        select(booking_unit.c.resource_id, booking_unit.c.id).where(booking_unit.c.resource_id.in_(ids)).order_by("id")
    ):
        units.setdefault(resource_id, []).append(unit)
    before = max(resource.buffer_before_min for resource in resources)
    after = max(resource.buffer_after_min for resource in resources)
    every = sorted(set().union(*families.values()))
    held = _held_periods(conn, every, start - timedelta(minutes=before), end + timedelta(minutes=after), now)
    answer: dict[int, list[int]] = {}
    for resource in resources:

        def opening(resource: Row = resource) -> list[availability.Period]:
            zone, closed = ZoneInfo(resource.time_zone), availability.closes_on_public_holidays(hours[resource.node_pk])
            return availability.open_periods(
                zone, rules.get(resource.id, []), exceptions.get(resource.id, []), closed, start, end
            )

        asked = BookingIn.model_construct(resource=resource.id, starts_at=start, ends_at=end, idempotency_key="")
        try:
            _check_request(conn, resource, asked, now, opening)
        except (FieldError, Conflict):
            answer[resource.id] = []
            continue
        family = families[resource.id]
        own = [hold for hold in held if hold[0] in family]
        answer[resource.id] = _free_units(resource.id, units.get(resource.id, []), own, *_blocked(resource, start, end))
    return answer


def earliest_free(
    conn: Connection, resource: Row, length: timedelta, start: datetime, until: datetime, now: datetime
) -> tuple[datetime, datetime] | None:
    """The first period of `length` from `start` (starting before `until`) that a booking could take now.

    Open periods and holds are read once for the window to pass over closed and taken times; the
    first start that passes is then confirmed by units_free_for, the same check a booking meets.
    Starts are on the grid, after the lead time and within the horizon, so a start refused there
    is refused for the length itself (not whole slots, too short or too long): no later one fits."""
    if resource.retired_at is not None:
        return None
    start = max(start, now + timedelta(minutes=resource.lead_time_min))
    until = min(until, now + timedelta(days=resource.horizon_days))
    zone = ZoneInfo(resource.time_zone)
    periods = open_periods_of(conn, resource, start, until + length)
    units = _units(conn, resource.id)
    held = _held_periods(conn, _family(conn, resource), *_blocked(resource, start, until + length), now)
    starts = [start for start, _ in availability.slots(periods, zone, resource.granularity_min) if start < until]
    windows = (_blocked(resource, start, start + length) for start in starts)
    for slot_start, free in zip(starts, _free_in_order(resource.id, units, held, windows), strict=True):
        slot_end = slot_start + length
        if free and availability.covers(periods, slot_start, slot_end):
            return (slot_start, slot_end) if units_free_for(conn, resource, slot_start, slot_end, now) else None
    return None


# --------------------------------------------------------------------------------------------
# moves


def member_refund(
    state: str, price_krw: int, policy: list[list[int]] | None, starts_at: datetime, now: datetime
) -> tuple[int, int]:
    """(percent, won) a member's cancellation at `now` pays back: the tier of the policy copied at
    confirmation; only a confirmed booking has been paid, so nothing else has anything to pay back."""
    percent = refund_percent(policy or [], starts_at, now)
    return percent, refund_krw(price_krw if state == "confirmed" else 0, percent)


def refund_preview(booking: dict[str, Any], at: datetime | None = None) -> tuple[int, int]:
    """What cancelling this booking (as `my_bookings` gives it) would pay back now, shown before the member confirms."""
    return member_refund(booking["state"], booking["price_krw"], booking["policy"], booking["starts_at"], _now(at))


def may_cancel_own(booking: dict[str, Any], at: datetime | None = None) -> bool:
    """Whether its member may still cancel this booking: the same rule the cancel move applies."""
    return booking["state"] in MOVES["cancel"].sources and _now(at) < booking["starts_at"]


@dataclass(frozen=True)
class Move:
    """One act on a booking: from which states, by whom (the member, a manager), and when it may happen."""

    action: str
    sources: tuple[str, ...]
    by_member: bool
    by_manager: bool
    once_started: bool = False  # only from the booking's start on (no-show, completed)
    before_start: bool = False  # only before the booking's start (a member's cancellation)


MOVES = {
    "approve": Move("approve", ("requested",), by_member=False, by_manager=True),
    "decline": Move("decline", ("requested",), by_member=False, by_manager=True),
    "mark_paid": Move("mark_paid", ("payment_due",), by_member=False, by_manager=True),
    "cancel": Move("cancel", ("requested", "approved", "payment_due", "confirmed"), by_member=True, by_manager=True),
    "no_show": Move("no_show", ("confirmed",), by_member=False, by_manager=True, once_started=True),
    "complete": Move("complete", ("confirmed",), by_member=False, by_manager=True, once_started=True),
}


def _swap(
    conn: Connection,
    row: Row,
    to: str,
    now: datetime,
    user: User,
    reason: str,
    payment: dict[str, str] | None = None,
    **values: Any,
) -> Row:
    """Move the booking from the state and version read to `to`, or refuse if anything moved it meanwhile;
    the audit record holds the move, its reason and, for a payment, how it was paid."""
    statement = (
        update(booking)
        .where(booking.c.id == row.id, booking.c.state == row.state, booking.c.version == row.version)
        .values(state=to, version=row.version + 1, updated_at=now, **values)
    )
    if row.state in HOLDING:
        statement = statement.where(or_(booking.c.hold_expires_at.is_(None), booking.c.hold_expires_at > now))
    if conn.execute(statement).rowcount != 1:
        raise Conflict("state: the booking was changed meanwhile; read it again")
    changes: dict[str, Any] = {"state": [row.state, to], **{key: [None, _jsonable(v)] for key, v in values.items()}}
    if reason:
        changes["reason"] = [None, reason]
    if payment:
        changes["payment"] = [None, payment]
    audit.record(conn, user.id, f"booking.{to}", "booking", str(row.id), changes, now)
    return _row(conn, row.id)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _allowed(conn: Connection, user: User, row: Row, resource: Row, move: Move) -> bool:
    own = row.member_id == user.id
    return (move.by_member and own) or (move.by_manager and may_manage(conn, user, resource))


def _refuse_out_of_order(row: Row, move: Move, state: str, now: datetime, own: bool) -> None:
    if state not in move.sources:
        label = STATES[state][1].lower()
        raise Conflict(f"state: the booking is {label}; it cannot be given `{move.action}`")
    if move.once_started and now < utc(row.starts_at):
        raise Conflict(f"state: `{move.action}` only once the booking has begun")
    if move.action == "cancel" and own and now >= utc(row.starts_at):
        raise Conflict("state: a booking that has begun can no longer be cancelled by its member")


def move_booking(
    platform: Platform,
    user: User | None,
    booking_id: int,
    action: str,
    reason: str = "",
    expected_versions: Collection[int] | None = None,
    at: datetime | None = None,
    payment: Payment | None = None,
) -> dict[str, Any]:
    """Do one of MOVES to a booking; refused, changing nothing, when the state, the user or the version forbid it.

    `payment` goes with mark_paid: how the host was paid, kept in the audit trail beside the move."""
    require(user is not None, user)
    move = MOVES[action]
    if payment is not None and action != "mark_paid":
        raise FieldError("payment", "only a booking marked paid says how it was paid")
    now = _now(at)
    with platform.engine.begin() as conn:
        store.begin_write(conn)
        row = _row(conn, booking_id)
        resource = resource_row(conn, row.resource_id)
        require(_allowed(conn, user, row, resource, move), user)
        if expected_versions is not None and row.version not in expected_versions:
            raise PreconditionFailed(f'the booking is now at ETag "{row.version}": read it again')
        own = row.member_id == user.id
        _refuse_out_of_order(row, move, effective_state(row, now), now, own)
        row = _apply(conn, user, row, resource, move, own, reason, now, payment or Payment())
        notices.moved(conn, row)
        return _public(conn, row, now)


def _apply(
    conn: Connection,
    user: User,
    row: Row,
    resource: Row,
    move: Move,
    own: bool,
    reason: str,
    now: datetime,
    payment: Payment,
) -> Row:
    """The writes of one allowed move; approving passes through `approved` to payment or confirmation."""
    if move.action == "approve":
        row = _swap(conn, row, "approved", now, user, reason)
        if row.price_krw:
            return _swap(
                conn, row, "payment_due", now, user, "", hold_expires_at=now + timedelta(hours=resource.hold_hours)
            )
        return _swap(conn, row, "confirmed", now, user, "", hold_expires_at=None, policy=resource.cancellation_policy)
    if move.action == "mark_paid":
        how = payment.model_dump()
        return _swap(
            conn, row, "confirmed", now, user, reason, how, hold_expires_at=None, policy=resource.cancellation_policy
        )
    if move.action == "cancel":
        paid = row.price_krw if row.state == "confirmed" else 0
        refund = member_refund(row.state, row.price_krw, row.policy, utc(row.starts_at), now)[1] if own else paid
        to = "cancelled_by_member" if own else "cancelled_by_host"
        return _swap(conn, row, to, now, user, reason, refund_krw=refund)
    targets = {"decline": "declined", "no_show": "no_show", "complete": "completed"}
    return _swap(conn, row, targets[move.action], now, user, reason)


# --------------------------------------------------------------------------------------------
# what members' pages show beside a booking or a resource


def resource_labels(platform: Platform, resource_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Each resource's names and its node's slug and names, for pages that list bookings or resources."""
    query = (
        select(
            booking_resource.c.id,
            booking_resource.c.name_ko,
            booking_resource.c.name_en,
            node.c.slug,
            node.c.name_ko.label("node_ko"),
            node.c.name_en.label("node_en"),
        )
        .join(node, node.c.pk == booking_resource.c.node_pk)
        .where(booking_resource.c.id.in_(sorted(set(resource_ids))))
    )
    with platform.engine.connect() as conn:
        return {
            row.id: {
                "name": {"ko": row.name_ko, "en": row.name_en},
                "node": {"slug": row.slug, "name": {"ko": row.node_ko, "en": row.node_en}},
            }
            for row in conn.execute(query)
        }
