"""Calendars (RFC 5545): bookings as feeds behind secret addresses, and blocks imported from a host's calendar.

Feeds. A host follows a resource's bookings (each with its member's name and state), a member
their own, in any calendar app that subscribes to `/calendars/<secret>.ics`. Only the secret's
hash is stored, as for API tokens, so a leaked database names no feed; a feed is revoked by its
owner, and a new one made to replace it. A resource's feed answers only while its owner still
manages the resource. Each booking is one event whose UID never changes, SEQUENCE is the
booking's version and STATUS follows its state (TENTATIVE while it holds, CONFIRMED, CANCELLED);
ended ones stay in the feed as CANCELLED so that subscribed calendars drop them.

Import. A host's own calendar (a file exported from Google Calendar, or its secret iCal address)
becomes `external_block` exceptions of a resource. Recurring events (RRULE, RDATE, EXDATE, moved
occurrences) are expanded with recurring-ical-events over the booking horizon; all-day events and
floating times are read in the resource's zone; free (TRANSPARENT) and cancelled events take no
time. An import replaces the earlier blocks of its own source (the uploaded file, or the
resource's import address) in one transaction, never a host-made exception, and moves the
resource's version on. Bookings already made in blocked time stay: they are counted, not
cancelled. A calendar that cannot be read changes nothing and is refused naming the line or event.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import re
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Event
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Row, delete, insert, select, update

from fabcity import audit
from fabcity.accounts.service import User, get_user
from fabcity.booking.resources import may_manage, require, resource_row, utc
from fabcity.booking.service import effective_state
from fabcity.booking.store import begin_write, overlaps
from fabcity.booking.vocabulary import BLOCKING, HOLDING, STATES
from fabcity.errors import Conflict, FieldError, Forbidden, NotFound
from fabcity.platform import Platform
from fabcity.storage.schema import availability_exception, booking, booking_resource, calendar_feed, node, user_account

FEED_PREFIX = "fcc_"  # tells a calendar secret apart from an API token (fct_) where one is pasted
FEED_PAST = timedelta(days=90)  # how far back a feed still lists bookings
MAX_CALENDAR_BYTES = 1024 * 1024  # a year of a busy Google calendar is a few hundred KB
MAX_BLOCKS = 5000  # busy periods within one resource's horizon; more is a runaway rule (FREQ=MINUTELY)
FETCH_TIMEOUT_S = 10
# A host may not make the server fetch from itself or its private network (SSRF): every address a
# calendar's server name resolves to, and every redirect's, must be a public one. The tests serve
# calendars on loopback and turn this on.
FETCH_LOCAL_ADDRESSES = False
MAX_URL_LENGTH = 2000
_UID_DOMAIN = "fabcity.seoul"
_CONTENT_LINE = re.compile(r"[A-Za-z0-9-]+(?:;[^\r\n]*)?:")
Source = Literal["upload", "url"]


class FeedIn(BaseModel):
    """A new feed: a resource's bookings (its hosts), or with no resource the member's own."""

    model_config = ConfigDict(extra="forbid")

    resource: int | None = Field(None, ge=1, le=2**31 - 1)


class FeedPublic(BaseModel):
    id: int
    resource: int | None
    created_at: datetime
    revoked_at: datetime | None


class FeedCreated(FeedPublic):
    url: str = Field(description="the secret address to subscribe to; shown only now, never again")


class ImportFrom(BaseModel):
    """Where to fetch a resource's external calendar; without `url`, the address stored by the last import."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=MAX_URL_LENGTH, examples=["https://calendar.google.com/…/basic.ics"])


class ImportResult(BaseModel):
    source: str = Field(description="upload | url: the earlier blocks of this source were replaced")
    events: int = Field(description="events in the calendar")
    blocks: int = Field(description="busy periods within the booking horizon, now blocks of the resource")
    replaced: int = Field(description="blocks of the previous import from this source, removed")
    skipped_free: int = Field(description="occurrences marked free (TRANSPARENT)")
    skipped_cancelled: int
    overlapping_bookings: int = Field(description="bookings already made in blocked time (they stay)")
    imported_at: datetime
    version: int = Field(description="the resource's version after the import")


class ImportState(BaseModel):
    import_url: str | None = Field(description="where the calendar is fetched from (kept from its managers only)")
    last_import: dict[str, Any] | None = Field(description="what the last import did, as the audit trail keeps it")


# --------------------------------------------------------------------------------------------
# feeds


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_path(secret: str) -> str:
    return f"/calendars/{secret}.ics"


def _public_feed(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "resource": row.resource_id,
        "created_at": utc(row.created_at),
        "revoked_at": utc(row.revoked_at),
    }


def create_feed(platform: Platform, user: User | None, resource_id: int | None) -> tuple[dict[str, Any], str]:
    """A new feed and its secret (shown once); a resource's feed only for those who manage it."""
    require(user is not None, user)
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        begin_write(conn)
        if resource_id is not None:
            require(may_manage(conn, user, resource_row(conn, resource_id)), user)
        values = {"user_id": user.id, "resource_id": resource_id, "token_hash": _digest(secret), "created_at": now}
        feed_id = conn.execute(insert(calendar_feed).values(values).returning(calendar_feed.c.id)).scalar_one()
        audit.record(conn, user.id, "calendar.create", "calendar", str(feed_id), {"resource": [None, resource_id]}, now)
        row = conn.execute(select(calendar_feed).where(calendar_feed.c.id == feed_id)).one()
    return _public_feed(row), secret


def feeds_of(platform: Platform, user: User | None, resource_id: int | None = None) -> list[dict[str, Any]]:
    """The user's own feeds, the newest first; with `resource_id`, those of that resource only."""
    require(user is not None, user)
    query = select(calendar_feed).where(calendar_feed.c.user_id == user.id)
    if resource_id is not None:
        query = query.where(calendar_feed.c.resource_id == resource_id)
    with platform.engine.connect() as conn:
        return [_public_feed(row) for row in conn.execute(query.order_by(calendar_feed.c.id.desc()))]


def revoke_feed(platform: Platform, user: User | None, feed_id: int) -> dict[str, Any]:
    """The feed's address answers 404 from now on; only its owner revokes it, once."""
    require(user is not None, user)
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        begin_write(conn)
        row = conn.execute(select(calendar_feed).where(calendar_feed.c.id == feed_id)).first()
        if row is None:
            raise NotFound(f"no calendar feed {feed_id}")
        if row.user_id != user.id:
            raise Forbidden()
        revoked = conn.execute(
            update(calendar_feed)
            .where(calendar_feed.c.id == feed_id, calendar_feed.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if revoked.rowcount != 1:
            raise Conflict("feed: already revoked")
        audit.record(
            conn, user.id, "calendar.revoke", "calendar", str(feed_id), {"revoked_at": [None, now.isoformat()]}
        )
        return _public_feed(conn.execute(select(calendar_feed).where(calendar_feed.c.id == feed_id)).one())


_FEED_STATUS = {"confirmed": "CONFIRMED", "completed": "CONFIRMED", "no_show": "CONFIRMED"}


def _status(state: str) -> str:
    """TENTATIVE while a request or unpaid booking holds its slot; CANCELLED once it holds nothing."""
    if state in HOLDING:
        return "TENTATIVE"
    return _FEED_STATUS.get(state, "CANCELLED")


def _owner(conn: Connection, feed: Row) -> User | None:
    """The feed's owner while their account lives and, for a resource's feed, while they manage it."""
    deleted = conn.execute(select(user_account.c.deleted_at).where(user_account.c.id == feed.user_id)).scalar()
    user = None if deleted else get_user(conn, feed.user_id)
    if user is None or feed.resource_id is None:
        return user
    return user if may_manage(conn, user, resource_row(conn, feed.resource_id)) else None


def feed_calendar(platform: Platform, secret: str, at: datetime | None = None) -> bytes:
    """The iCalendar text a subscribed calendar reads; NotFound for a revoked or unknown secret."""
    now = (at or datetime.now(UTC)).astimezone(UTC)
    if len(secret) > 100:  # not one of ours (they are 47 characters); no need to hash a long guess
        raise NotFound("no such calendar")
    with platform.engine.connect() as conn:
        feed = conn.execute(
            select(calendar_feed).where(
                calendar_feed.c.token_hash == _digest(secret), calendar_feed.c.revoked_at.is_(None)
            )
        ).first()
        user = _owner(conn, feed) if feed is not None else None
        if feed is None or user is None:
            raise NotFound("no such calendar (the address may have been revoked)")
        query = (
            select(booking, booking_resource.c.name_ko, booking_resource.c.name_en, node.c.name_ko.label("node_ko"))
            .join(booking_resource, booking_resource.c.id == booking.c.resource_id)
            .join(node, node.c.pk == booking_resource.c.node_pk)
            .where(booking.c.ends_at > now - FEED_PAST)
            .order_by(booking.c.starts_at, booking.c.id)
        )
        if feed.resource_id is not None:
            query = query.add_columns(user_account.c.display_name).join(
                user_account, user_account.c.id == booking.c.member_id
            )
            query = query.where(booking.c.resource_id == feed.resource_id)
            name = resource_row(conn, feed.resource_id).name_ko
        else:
            query = query.where(booking.c.member_id == user.id)
            name = "내 예약 / My bookings"
        rows = conn.execute(query).all()
    calendar = Calendar()
    calendar.add("prodid", "-//Fab City Seoul//fabcity//KO")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{name} · Fab City Seoul")
    for row in rows:
        calendar.add_component(_event(row, effective_state(row, now), for_host=feed.resource_id is not None))
    return calendar.to_ical()


def _event(row: Row, state: str, for_host: bool) -> Event:
    """One booking as an event; the member's name and the state's words only in a host's feed."""
    name_ko, name_en = row.name_ko, row.name_en or row.name_ko
    if for_host:
        state_ko, state_en = STATES[state]
        summary = f"{name_ko}: {row.display_name} ({state_ko}) / {name_en}: {row.display_name} ({state_en})"
    else:
        summary = f"{name_ko} 예약 / Booking: {name_en}"
    event = Event()
    event.add("uid", f"booking-{row.id}@{_UID_DOMAIN}")
    event.add("dtstamp", utc(row.updated_at))
    event.add("created", utc(row.created_at))
    event.add("last-modified", utc(row.updated_at))
    event.add("dtstart", utc(row.starts_at))
    event.add("dtend", utc(row.ends_at))
    event.add("summary", summary)
    event.add("location", row.node_ko or "")
    event.add("status", _status(state))
    event.add("sequence", row.version)
    return event


# --------------------------------------------------------------------------------------------
# import


@dataclass(frozen=True)
class Busy:
    """One occurrence of an external event that takes the resource's time, in UTC."""

    uid: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class ReadCalendar:
    """What a calendar holds within a window: its busy periods and what was left out."""

    events: int
    busy: list[Busy]
    skipped_free: int = 0
    skipped_cancelled: int = 0


def _checked_text(data: bytes) -> tuple[str, list[str]]:
    """The calendar's text and its lines, once it is known to be UTF-8 text in iCalendar's line shape."""
    if len(data) > MAX_CALENDAR_BYTES:
        raise FieldError("calendar", f"larger than {MAX_CALENDAR_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FieldError("calendar", f"line {line}: not UTF-8 text") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]  # not splitlines(): U+2028 may be inside a value
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip().upper() != "BEGIN:VCALENDAR":
        raise FieldError("calendar", "not iCalendar: it must begin with BEGIN:VCALENDAR")
    for number, line in enumerate(lines[first:], first + 1):
        if line and line[0] not in " \t" and not _CONTENT_LINE.match(line):
            raise FieldError("calendar", f"line {number}: not an iCalendar line (NAME:value)")
    return text, lines


def _event_name(event: Event, line: int | None) -> str:
    uid = str(event.get("UID", ""))[:80]
    return f"event {uid} (line {line})" if uid else f"the event at line {line}"


def _as_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART or DTEND in UTC: a date is midnight, a floating time the wall clock, of the resource's zone."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def read_calendar(data: bytes, zone: ZoneInfo, start: datetime, end: datetime) -> ReadCalendar:
    """The busy periods of an iCalendar within [start, end), recurrences expanded; FieldError when unreadable."""
    text, lines = _checked_text(data)
    try:
        calendar = Calendar.from_ical(text)
    except ValueError as error:
        raise FieldError("calendar", f"not iCalendar: {str(error)[:120]}") from None
    event_lines = [n for n, line in enumerate(lines, 1) if line.strip().upper() == "BEGIN:VEVENT"]
    events = calendar.walk("VEVENT")
    for index, event in enumerate(events):
        where = _event_name(event, event_lines[index] if index < len(event_lines) else None)
        if "DTSTART" not in event:
            raise FieldError("calendar", f"{where} has no DTSTART")
        if event.errors:
            prop, message = event.errors[0]
            raise FieldError("calendar", f"{where}: {prop}: {str(message)[:120]}")
    found = ReadCalendar(events=len(events), busy=[])
    try:
        for occurrence in recurring_ical_events.of(calendar).after(start):
            occurrence_start = _as_utc(occurrence.start, zone)
            if occurrence_start >= end:
                break
            _take(found, occurrence, occurrence_start, _as_utc(occurrence.end, zone), start, end)
    except FieldError:  # too many busy periods: said as it is
        raise
    except (ValueError, recurring_ical_events.InvalidCalendar) as error:
        raise FieldError("calendar", f"its recurrences cannot be expanded: {str(error)[:120]}") from None
    return found


def _take(found: ReadCalendar, occurrence: Event, occurrence_start: datetime, occurrence_end: datetime,
          start: datetime, end: datetime) -> None:  # fmt: skip
    """Count one occurrence: skipped when free or cancelled, else one busy period clipped to the window."""
    if str(occurrence.get("TRANSP", "")).upper() == "TRANSPARENT":
        found.skipped_free += 1
        return
    if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
        found.skipped_cancelled += 1
        return
    clipped = (max(occurrence_start, start), min(occurrence_end, end))
    if clipped[0] >= clipped[1]:  # no duration (a moment) or outside the window: takes no time
        return
    if len(found.busy) >= MAX_BLOCKS:
        raise FieldError("calendar", f"more than {MAX_BLOCKS} busy periods within the booking horizon")
    uid = f"{str(occurrence.get('UID', ''))[:200]} {occurrence_start:%Y%m%dT%H%M%SZ}"
    found.busy.append(Busy(uid, *clipped))


def checked_url(url: str | None) -> str:
    """An address the import may fetch: http(s), or webcal (read as https)."""
    url = (url or "").strip()
    if not url:
        raise FieldError("url", "give the calendar's address (e.g. Google Calendar's secret address in iCal format)")
    if len(url) > MAX_URL_LENGTH:
        raise FieldError("url", f"longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme.lower() == "webcal":
        url = "https" + url[len(parts.scheme) :]
    elif parts.scheme.lower() not in ("http", "https"):
        raise FieldError("url", "an http, https or webcal address")
    if not parts.hostname:
        raise FieldError("url", "names no server")
    return url


def _refuse_local(url: str) -> None:
    """FieldError unless every address the URL's server name resolves to is public (see FETCH_LOCAL_ADDRESSES).

    A name that resolves differently by the time it is fetched is not caught here; an egress proxy would be.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FieldError("url", "an http, https or webcal address")
    if FETCH_LOCAL_ADDRESSES:
        return
    try:
        found = socket.getaddrinfo(parts.hostname or "", None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise FieldError("url", "the calendar could not be fetched: its server's name is unknown") from None
    if not all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global for info in found):
        raise FieldError("url", "names a local or private address, which calendars are not fetched from")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is followed only to a public http(s) address, as the first address was."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        _refuse_local(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_CheckedRedirects)


def fetch_calendar(url: str) -> bytes:
    """The calendar at `url`, read up to the size cap, with a timeout; FieldError naming why it could not be had."""
    _refuse_local(url)
    request = urllib.request.Request(url, headers={"Accept": "text/calendar", "User-Agent": "fabcity-calendar-import"})
    try:
        with _OPENER.open(request, timeout=FETCH_TIMEOUT_S) as answer:
            data = answer.read(MAX_CALENDAR_BYTES + 1)
    except FieldError:  # a redirect to where calendars are not fetched from
        raise
    except urllib.error.HTTPError as error:
        raise FieldError("url", f"the calendar's server answered {error.code}") from None
    except urllib.error.URLError as error:
        raise FieldError("url", f"the calendar could not be fetched: {str(error.reason)[:120]}") from None
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as error:
        raise FieldError("url", f"the calendar could not be fetched: {type(error).__name__}") from None
    if len(data) > MAX_CALENDAR_BYTES:
        raise FieldError("url", f"the calendar is larger than {MAX_CALENDAR_BYTES // 1024} KB")
    return data


def _overlapping_bookings(conn: Connection, resource_id: int, busy: list[Busy], now: datetime) -> int:
    """How many bookings that hold their time fall, at least in part, in the blocked periods."""
    if not busy:
        return 0
    first, last = min(b.starts_at for b in busy), max(b.ends_at for b in busy)
    query = select(booking).where(
        booking.c.resource_id == resource_id,
        booking.c.state.in_(BLOCKING),
        booking.c.starts_at < last,
        booking.c.ends_at > first,
    )
    held = [row for row in conn.execute(query) if effective_state(row, now) in BLOCKING]
    return sum(
        any(overlaps(utc(row.starts_at), utc(row.ends_at), b.starts_at, b.ends_at) for b in busy) for row in held
    )


def import_calendar(
    platform: Platform,
    user: User | None,
    resource_id: int,
    data: bytes | None = None,
    url: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Replace a source's blocks of a resource with a calendar's busy periods: an uploaded file (`data`), or
    the calendar at `url` (stored as the resource's import address), or, with neither, at the stored address.

    The calendar is fetched and read before anything is written; the replacement lands whole or not at all.
    """
    require(user is not None, user)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    with platform.engine.connect() as conn:
        resource = resource_row(conn, resource_id)
        require(may_manage(conn, user, resource), user)
    source: Source = "upload" if data is not None else "url"
    if data is None:
        url = checked_url(url or resource.import_url)
        data = fetch_calendar(url)
    end = now + timedelta(days=resource.horizon_days + 1)
    found = read_calendar(data, ZoneInfo(resource.time_zone), now, end)
    with platform.engine.begin() as conn:
        begin_write(conn)  # SQLite: the write lock first, so the read below cannot go stale before the writes
        require(may_manage(conn, user, resource_row(conn, resource_id)), user)
        values: dict[str, Any] = {"updated_at": now} | ({"import_url": url} if source == "url" else {})
        conn.execute(update(booking_resource).where(booking_resource.c.id == resource_id).values(values))
        ours = (availability_exception.c.resource_id == resource_id, availability_exception.c.source == source)
        replaced = conn.execute(delete(availability_exception).where(*ours)).rowcount
        if found.busy:
            conn.execute(insert(availability_exception), list(_block_rows(resource_id, source, found.busy)))
        result = {
            "source": source,
            "events": found.events,
            "blocks": len(found.busy),
            "replaced": replaced,
            "skipped_free": found.skipped_free,
            "skipped_cancelled": found.skipped_cancelled,
            "overlapping_bookings": _overlapping_bookings(conn, resource_id, found.busy, now),
            "imported_at": now,
            "version": resource_row(conn, resource_id).version,
        }
        trail = {key: [None, value] for key, value in result.items() if key not in ("imported_at", "version")}
        trail["blocks"] = [replaced, len(found.busy)]
        if source == "url":
            trail["server"] = [None, urlsplit(url).hostname]  # never the address itself: Google's holds a secret
        audit.record(conn, user.id, "resource.import", "resource", str(resource_id), trail, now)
    return result


def _block_rows(resource_id: int, source: Source, busy: Iterable[Busy]) -> Iterable[dict[str, Any]]:
    for period in busy:
        yield {
            "resource_id": resource_id,
            "kind": "external_block",
            "starts_at": period.starts_at,
            "ends_at": period.ends_at,
            "note": "",  # the host's own event titles stay private: availability is public
            "source": source,
            "uid": period.uid,
        }


def import_state(platform: Platform, user: User | None, resource_id: int) -> dict[str, Any]:
    """For the resource's managers: its import address and what the last import did (from the audit trail)."""
    with platform.engine.connect() as conn:
        resource = resource_row(conn, resource_id)
        require(may_manage(conn, user, resource), user)
        imports = [e for e in audit.history(conn, "resource", str(resource_id)) if e["action"] == "resource.import"]
    last = None
    if imports:
        entry = imports[-1]
        last = {key: after for key, (_before, after) in entry["changes"].items()} | {"imported_at": utc(entry["at"])}
    return {"import_url": resource.import_url, "last_import": last}
