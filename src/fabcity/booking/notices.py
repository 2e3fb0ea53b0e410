"""Booking notices by e-mail: what the member and the node's hosts are told, in Korean then English.

Event notices are queued in the transaction of the act (booking.service calls `booked` after the
insert and `moved` after each move), so a refused or rolled-back act tells nobody. Reminders (24 h
before a confirmed booking) and expiries (a request or unpaid booking whose hold ran out) depend on
the clock: `queue_due`, run by `fabcity worker`, finds them. Every notice carries a key such as
`booking:12:reminder:member:7`, unique in the outbox, so it is queued once however often and by
however many workers `queue_due` runs. Times are shown in KST; links use FABCITY_PUBLIC_URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Row, select

from fabcity.accounts.service import User, get_user
from fabcity.booking import store
from fabcity.booking.vocabulary import HOLDING
from fabcity.clock import in_seoul
from fabcity.directory.editing import hosts_of
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.settings import Settings
from fabcity.storage.schema import booking, booking_resource, node

REMINDER_BEFORE = timedelta(hours=24)
STALE_EXPIRY = timedelta(days=2)
"""An expiry older than this when first seen (the worker was down) is no longer worth an e-mail."""
_WEEKDAYS_KO = "월화수목금토일"


@dataclass(frozen=True)
class Wording:
    """One kind of notice: subject and first line in Korean and English, and who receives it."""

    subject_ko: str
    subject_en: str
    line_ko: str
    line_en: str
    to_member: bool
    to_hosts: bool


WORDINGS = {
    "request": Wording(
        "새 예약 요청", "New booking request",
        "새 예약 요청이 들어왔습니다. 승인하거나 거절해 주세요.",
        "A member asks to book; please approve or decline the request.",
        to_member=False, to_hosts=True,
    ),
    "payment_due": Wording(
        "결제 대기", "Payment due",
        "예약이 받아들여졌습니다. 기한 안에 공간 운영자에게 결제해 주세요.",
        "Your booking was accepted. Please pay the host before the deadline.",
        to_member=True, to_hosts=False,
    ),
    "confirmed": Wording(
        "예약 확정", "Booking confirmed",
        "예약이 확정되었습니다.",
        "Your booking is confirmed.",
        to_member=True, to_hosts=False,
    ),
    "declined": Wording(
        "예약 거절", "Booking declined",
        "예약 요청이 거절되었습니다.",
        "Your booking request was declined.",
        to_member=True, to_hosts=False,
    ),
    "cancelled_by_member": Wording(
        "회원이 예약을 취소함", "Booking cancelled by the member",
        "회원이 예약을 취소했습니다. 이 시간은 다시 예약할 수 있습니다.",
        "The member cancelled the booking; the time is free again.",
        to_member=False, to_hosts=True,
    ),
    "cancelled_by_host": Wording(
        "운영자가 예약을 취소함", "Booking cancelled by the host",
        "공간 운영자가 예약을 취소했습니다. 낸 금액은 모두 환불됩니다.",
        "The host cancelled your booking; what you paid is refunded in full.",
        to_member=True, to_hosts=False,
    ),
    "no_show": Wording(
        "노쇼 처리", "Marked as no-show",
        "예약 시간에 오지 않아 노쇼로 처리되었습니다.",
        "You did not come to your booking; it was marked as a no-show.",
        to_member=True, to_hosts=False,
    ),
    "reminder": Wording(
        "예약 알림", "Booking reminder",
        "24시간 안에 예약이 시작됩니다.",
        "Your booking starts within 24 hours.",
        to_member=True, to_hosts=False,
    ),
    "expired": Wording(
        "예약 만료", "Booking expired",
        "기한 안에 승인 또는 결제가 되지 않아 예약이 만료되었습니다. 이 시간은 다시 예약할 수 있습니다.",
        "The booking expired: it was not approved or paid in time. The time is free again.",
        to_member=True, to_hosts=True,
    ),
}  # fmt: skip
_AFTER_MOVE = ("payment_due", "confirmed", "declined", "cancelled_by_member", "cancelled_by_host", "no_show")


def booking_link(role: str, booking_id: int, node_slug: str) -> str:
    """Where the recipient sees the booking: the member in their bookings, a host in the node's booking inbox."""
    public_url = Settings.from_environment().public_url
    if role == "member":
        return f"{public_url}/bookings#booking-{booking_id}"
    return f"{public_url}/nodes/{node_slug}/bookings"


def booked(conn: Connection, row: Row) -> None:
    """A new booking: a request goes to the hosts; an instant one tells the member it is confirmed or due."""
    _tell(conn, row, "request" if row.state == "requested" else row.state)


def moved(conn: Connection, row: Row) -> None:
    """A booking moved (the row after the move): the side that did not act is told, when it matters."""
    if row.state in _AFTER_MOVE:
        _tell(conn, row, row.state)


def queue_due(platform: Platform, now: datetime | None = None) -> int:
    """Queue the reminders and expiry notices due as of `now` that were not queued yet; how many were queued."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    reminders = select(booking).where(
        booking.c.state == "confirmed", booking.c.starts_at > now, booking.c.starts_at <= now + REMINDER_BEFORE
    )
    expiries = select(booking).where(
        booking.c.state.in_((*HOLDING, "expired")),
        booking.c.hold_expires_at <= now,
        booking.c.hold_expires_at > now - STALE_EXPIRY,
    )
    queued = 0
    with platform.engine.begin() as conn:
        store.begin_write(conn)  # SQLite: two workers' inserts wait for each other instead of failing
        for kind, query in (("reminder", reminders), ("expired", expiries)):
            for row in conn.execute(query.order_by(booking.c.id)).all():
                queued += _tell(conn, row, kind)
    return queued


def _recipients(conn: Connection, row: Row, wording: Wording, node_pk: int) -> list[tuple[str, User]]:
    """(role, person) for everyone this kind of notice goes to, in a fixed order."""
    found: list[tuple[str, User]] = []
    if wording.to_member and (member := get_user(conn, row.member_id)) is not None:
        found.append(("member", member))
    if wording.to_hosts:
        found += [("host", host) for host in hosts_of(conn, node_pk)]
    return found


def _tell(conn: Connection, row: Row, kind: str) -> int:
    """Queue the notice `kind` of this booking to each of its recipients once; how many were new."""
    wording = WORDINGS[kind]
    place = conn.execute(
        select(booking_resource.c.name_ko, booking_resource.c.name_en, node.c.pk, node.c.slug,
               node.c.name_ko.label("node_ko"), node.c.name_en.label("node_en"))
        .join(node, node.c.pk == booking_resource.c.node_pk)
        .where(booking_resource.c.id == row.resource_id)
    ).one()  # fmt: skip
    queued = 0
    for role, person in _recipients(conn, row, wording, place.pk):
        subject = f"[팹시티 서울] {wording.subject_ko} / {wording.subject_en}: {place.name_ko}, {_when_ko(row)}"
        key = f"booking:{row.id}:{kind}:{role}:{person.id}"
        body = _body(row, wording, place, person, booking_link(role, row.id, place.slug))
        queued += outbox.queue(conn, person.email, subject, body, key)
    return queued


def _when_ko(row: Row) -> str:
    start, end = in_seoul(row.starts_at), in_seoul(row.ends_at)
    return f"{start:%Y-%m-%d}({_WEEKDAYS_KO[start.weekday()]}) {start:%H:%M}–{end:%H:%M} KST"


def _when_en(row: Row) -> str:
    start, end = in_seoul(row.starts_at), in_seoul(row.ends_at)
    return f"{start:%a %d %b %Y}, {start:%H:%M}–{end:%H:%M} KST"


def _body(row: Row, wording: Wording, place: Row, person: User, link: str) -> str:
    """Korean first, then English: the account keeps no language."""
    resource_en, node_en = place.name_en or place.name_ko, place.node_en or place.node_ko
    node_ko = place.node_ko or place.node_en
    money_ko, money_en = "", ""
    if row.price_krw:
        money_ko, money_en = f"\n- 금액: {row.price_krw:,}원", f"\n- Price: {row.price_krw:,} won"
    if row.refund_krw is not None:
        money_ko += f"\n- 환불: {row.refund_krw:,}원"
        money_en += f"\n- Refund: {row.refund_krw:,} won"
    if row.state in HOLDING and row.hold_expires_at is not None:
        deadline = in_seoul(row.hold_expires_at)
        money_ko += f"\n- 기한: {deadline:%Y-%m-%d %H:%M} KST"
        money_en += f"\n- Answer or pay by: {deadline:%Y-%m-%d %H:%M} KST"
    return (
        f"{person.display_name}님,\n{wording.line_ko}\n\n"
        f"- 예약 번호: {row.id}\n- 자원: {place.name_ko} ({node_ko})\n- 일시: {_when_ko(row)}{money_ko}\n"
        f"예약 보기: {link}\n\n"
        "----\n\n"
        f"{person.display_name},\n{wording.line_en}\n\n"
        f"- Booking: {row.id}\n- Resource: {resource_en} ({node_en})\n- When: {_when_en(row)}{money_en}\n"
        f"See the booking: {link}\n"
    )
