"""What hosts and curators read of bookings: a node's inbox, its bookings by day, every node's bookings.

Reading only: the moves themselves are booking.service.move_booking, so a button on a page, the API
and the command line decide a booking through the same compare-and-swap. A state is the one as of
now (booking.service.effective_state): a request past its hold is listed as expired, never as
waiting, and the state filters ask the database for the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select

from fabcity.accounts.service import User
from fabcity.booking.resources import require, utc
from fabcity.booking.service import effective_state
from fabcity.booking.vocabulary import HOLDING, STATES
from fabcity.clock import KST
from fabcity.directory.editing import may_edit, may_verify, node_pk_of
from fabcity.errors import ParameterError
from fabcity.platform import Platform
from fabcity.storage.schema import booking, booking_resource, booking_unit, node, user_account

PAGE_SIZE = 50
INBOX_LIMIT = 200  # per section of a node's inbox; a node with more is read by day or week
EXPORT_LIMIT = 10_000  # rows of one CSV download
MAX_RANGE = timedelta(days=366)
# Confirmed bookings that ended this long ago leave the inbox (the day/week view keeps them): a host
# marks a booking completed or a no-show soon after it, and old unmarked ones would crowd out the next.
CONFIRMED_PAST = timedelta(days=14)  # the widest period a list is asked for at once


@dataclass(frozen=True)
class Filters:
    """What the curators' list is narrowed to; a date range is of KST days, both ends included."""

    node: str | None = None
    state: str | None = None
    first_day: date | None = None
    last_day: date | None = None


def _now(at: datetime | None) -> datetime:
    return (at or datetime.now(UTC)).astimezone(UTC)


def _listing() -> Select:
    return (
        select(
            booking,
            booking_resource.c.name_ko.label("resource_name_ko"),
            booking_resource.c.name_en.label("resource_name_en"),
            booking_resource.c.kind.label("resource_kind"),
            booking_unit.c.label.label("unit_label"),
            node.c.slug.label("node_slug"),
            node.c.name_ko.label("node_name_ko"),
            node.c.name_en.label("node_name_en"),
            user_account.c.display_name.label("member_name"),
            user_account.c.email.label("member_email"),
        )
        .join(booking_resource, booking_resource.c.id == booking.c.resource_id)
        .join(booking_unit, booking_unit.c.id == booking.c.unit_id)
        .join(node, node.c.pk == booking_resource.c.node_pk)
        .join(user_account, user_account.c.id == booking.c.member_id)
    )


def _listed(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "resource": row.resource_id,
        "resource_name": (row.resource_name_ko, row.resource_name_en),
        "kind": row.resource_kind,
        "unit": row.unit_label,
        "node": row.node_slug,
        "node_name": (row.node_name_ko or row.node_slug, row.node_name_en),
        "member_name": row.member_name,
        "member_email": row.member_email,
        "starts_at": utc(row.starts_at),
        "ends_at": utc(row.ends_at),
        "state": effective_state(row, now),
        "hold_expires_at": utc(row.hold_expires_at),
        "price_krw": row.price_krw,
        "refund_krw": row.refund_krw,
        "created_at": utc(row.created_at),
        "started": utc(row.starts_at) <= now,
        "version": row.version,
    }


def in_state(state: str, now: datetime) -> ColumnElement[bool]:
    """Bookings whose state as of `now` is `state` (a hold past its time is expired, whatever is stored)."""
    live = or_(booking.c.hold_expires_at.is_(None), booking.c.hold_expires_at > now)
    if state == "expired":
        return or_(booking.c.state == "expired", and_(booking.c.state.in_(HOLDING), ~live))
    if state in HOLDING:
        return and_(booking.c.state == state, live)
    return booking.c.state == state


def _kst_day_start(day: date) -> datetime:
    """The instant a Seoul day begins."""
    return datetime.combine(day, time(), KST)


def _node_pk_for_manager(conn: Connection, user: User | None, node_id: str) -> int:
    pk = node_pk_of(conn, node_id)
    require(may_edit(conn, user, pk), user)
    return pk


def inbox(platform: Platform, user: User | None, node_id: str, at: datetime | None = None) -> dict[str, list[dict]]:
    """A node's bookings that want a host: requests (oldest first), payments due (the soonest to lapse first), and
    confirmed ones to see through (by start, those that ended in the last CONFIRMED_PAST included)."""
    now = _now(at)
    with platform.engine.connect() as conn:
        pk = _node_pk_for_manager(conn, user, node_id)
        of_node = _listing().where(booking_resource.c.node_pk == pk)
        sections = {
            "requested": of_node.where(in_state("requested", now)).order_by(booking.c.created_at, booking.c.id),
            "payment_due": of_node.where(or_(in_state("payment_due", now), in_state("approved", now))).order_by(
                booking.c.hold_expires_at, booking.c.id
            ),
            "confirmed": of_node.where(in_state("confirmed", now), booking.c.ends_at > now - CONFIRMED_PAST).order_by(
                booking.c.starts_at, booking.c.id
            ),
        }
        return {
            name: [_listed(row, now) for row in conn.execute(query.limit(INBOX_LIMIT)).all()]
            for name, query in sections.items()
        }


def node_bookings(
    platform: Platform, user: User | None, node_id: str, first_day: date, days: int, at: datetime | None = None
) -> dict[date, list[dict]]:
    """Every booking of a node's resources starting on each of `days` Seoul days from `first_day`, by day."""
    now = _now(at)
    start = _kst_day_start(first_day)
    end = _kst_day_start(first_day + timedelta(days=days))
    by_day: dict[date, list[dict]] = {first_day + timedelta(days=n): [] for n in range(days)}
    with platform.engine.connect() as conn:
        pk = _node_pk_for_manager(conn, user, node_id)
        query = (
            _listing()
            .where(booking_resource.c.node_pk == pk, booking.c.starts_at >= start, booking.c.starts_at < end)
            .order_by(booking.c.starts_at, booking_resource.c.id, booking.c.id)
        )
        for row in conn.execute(query).all():
            listed = _listed(row, now)
            by_day[listed["starts_at"].astimezone(KST).date()].append(listed)
    return by_day


def _filtered(conn: Connection, filters: Filters, now: datetime) -> Select:
    query = _listing()
    if filters.node:
        query = query.where(booking_resource.c.node_pk == node_pk_of(conn, filters.node))
    if filters.state:
        if filters.state not in STATES:
            raise ParameterError("state", f"one of {', '.join(STATES)}")
        query = query.where(in_state(filters.state, now))
    first, last = filters.first_day, filters.last_day
    for name, day in (("from", first), ("to", last)):
        if day and not 2000 <= day.year <= 2100:  # far dates would overflow the day arithmetic below
            raise ParameterError(name, "a date between the years 2000 and 2100")
    if first and last and (last < first or last - first > MAX_RANGE):
        raise ParameterError("to", f"on or after from, and at most {MAX_RANGE.days} days after it")
    if first:
        query = query.where(booking.c.starts_at >= _kst_day_start(first))
    if last:
        query = query.where(booking.c.starts_at < _kst_day_start(last + timedelta(days=1)))
    return query


def find_bookings(
    conn: Connection, filters: Filters, now: datetime, limit: int = PAGE_SIZE, offset: int = 0
) -> tuple[list[dict], int]:
    """Bookings across nodes, the latest start first, and how many match in all (no permission check:
    all_bookings checks it for people; the command line runs with the database's own rights)."""
    query = _filtered(conn, filters, now)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = query.order_by(booking.c.starts_at.desc(), booking.c.id.desc()).limit(limit).offset(offset)
    return [_listed(row, now) for row in conn.execute(page).all()], total


def all_bookings(
    platform: Platform,
    user: User | None,
    filters: Filters,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    at: datetime | None = None,
) -> tuple[list[dict], int]:
    """The curators' and admins' view of bookings across nodes: one page of them, and the total."""
    require(may_verify(user), user)
    with platform.engine.connect() as conn:
        return find_bookings(conn, filters, _now(at), per_page, (page - 1) * per_page)


def nodes_with_resources(platform: Platform) -> list[tuple[str, tuple[str, str | None]]]:
    """(slug, (Korean name, English name)) of the nodes that have bookable resources, for the curators' node
    filter, which names them in the page's language."""
    query = (
        select(node.c.slug, func.coalesce(node.c.name_ko, node.c.slug), node.c.name_en)
        .where(node.c.pk.in_(select(booking_resource.c.node_pk)))
        .order_by(node.c.slug)
    )
    with platform.engine.connect() as conn:
        return [(slug, (name_ko, name_en)) for slug, name_ko, name_en in conn.execute(query).all()]
