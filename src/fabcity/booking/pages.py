"""Booking's pages, on the same services as the API (docs/decisions/0005-booking.md).

Members: a resource's page (what it is, its rules and cancellation policy in words, a week
calendar of free slots and the booking form), a node's bookable resources, and "my bookings"
with the refund a cancellation would give shown before it is confirmed. Every form works
without JavaScript; the calendar only fills the form. Times are shown in the resource's own zone
(Asia/Seoul unless a host says otherwise) and in KST on "my bookings".
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fabcity.booking import resources, service
from fabcity.booking.models import BookingIn
from fabcity.booking.vocabulary import KINDS, MODES, STATES
from fabcity.directory.hours import DAY_LABELS, DAYS
from fabcity.errors import Conflict, FieldError, Forbidden, ServiceError
from fabcity.platform import Platform
from fabcity.web import i18n
from fabcity.web.auth import signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, form_of, render, say
from fabcity.web.forms import FormErrors, form_errors
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)

# --------------------------------------------------------------------------------------------
# members

NEXT_SLOTS_SHOWN = 12  # the plain list of free slots the page carries for browsers without JavaScript
NEXT_SLOTS_DAYS = 14
FORM_FIELDS = ("start", "duration")
# The service's refusals (English, naming its own field) as members read them; the form's field for each.
_FORM_FIELD_OF = {"starts_at": "start", "ends_at": "duration"}
_REFUSALS = (
    (r"this slot was just taken; choose another time", mark("This slot was just taken. Please choose another time.")),
    (r"must fall on the (?P<minutes>\d+)-minute slot grid.*", mark("Start on the %(minutes)s-minute grid.")),
    (
        r"the duration must be a whole number of (?P<minutes>\d+)-minute slots",
        mark("The duration must be whole %(minutes)s-minute slots."),
    ),
    (r"the duration must be (?P<low>\d+) to (?P<high>\d+) minutes", mark("Book from %(low)s to %(high)s minutes.")),
    (r"must be at least (?P<minutes>\d+) minutes from now", mark("Book at least %(minutes)s minutes ahead.")),
    (r"must be at most (?P<days>\d+) days from now", mark("Book at most %(days)s days ahead.")),
    (
        r"the resource is not open for all of this period.*",
        mark("The resource is not open for all of this time (opening hours, closures, holidays)."),
    ),
    (r"this resource is retired and takes no new bookings", mark("This resource takes no new bookings.")),
    (r"the booking is .+; it cannot be given `cancel`", mark("This booking can no longer be cancelled.")),
    (
        r"a booking that has begun can no longer be cancelled.*",
        mark("This booking has begun: it can no longer be cancelled."),
    ),
    (
        r"the booking was changed meanwhile; read it again",
        mark("The booking was changed meanwhile. Please look again."),
    ),
    (r"the booking is now at ETag.*", mark("The booking was changed meanwhile. Please look again.")),
)
_FIELD_PREFIX = re.compile(r"(?P<field>[a-z_]+): (?P<message>.*)", re.S)


def _problems(error: ServiceError) -> list[tuple[str, str]]:
    """(form field, message) of a service refusal: a Conflict says its field before a colon."""
    if isinstance(error, FieldError):
        return [(_FORM_FIELD_OF.get(error.field, error.field), error.message)]
    text = str(error).strip("'\"")
    if found := _FIELD_PREFIX.fullmatch(text):
        return [(_FORM_FIELD_OF.get(found["field"], found["field"]), found["message"])]
    return [("", text)]


def _policy_words(request: Request, policy: list[list[int]]) -> list[str]:
    """The cancellation tiers as sentences: "7일 전까지 취소: 100% 환불", then what is left."""
    lines = []
    for days, percent in sorted(policy, reverse=True):
        tier = {"days": days, "percent": percent}
        if days:
            lines.append(say(request, "Cancel %(days)s or more days ahead: %(percent)s%% back") % tier)
        else:
            lines.append(say(request, "Cancel later, before the start: %(percent)s%% back") % tier)
    if not any(days == 0 for days, _ in policy):
        lines.append(say(request, "Later: no refund"))
    return lines


def _rule_lines(request: Request, rules: list[dict[str, Any]]) -> list[str]:
    """The weekly opening rules, days with the same hours on one line: "월·화·수 09:00–18:00, 19:00–21:00";
    a rule valid only for a while says its dates."""
    language = i18n.language_of(request)
    by_day: dict[int, list[str]] = {}
    for rule in sorted(rules, key=lambda rule: (rule["weekday"], rule["start"])):
        span = f"{rule['start']}–{rule['end']}"
        if rule["valid_from"] or rule["valid_until"]:
            span += f" ({rule['valid_from'] or ''}–{rule['valid_until'] or ''})"
        by_day.setdefault(rule["weekday"], []).append(span)
    days_of: dict[str, list[str]] = {}
    for day, spans in by_day.items():
        days_of.setdefault(", ".join(spans), []).append(i18n.label(DAY_LABELS[DAYS[day]], language))
    return [f"{'·'.join(days)} {spans}" for spans, days in days_of.items()]


def _day_span(rules: list[dict[str, Any]]) -> tuple[str, str]:
    """The hours the week calendar shows: from the earliest opening to the latest closing of any day."""
    if not rules:
        return "00:00", "24:00"
    return min(rule["start"] for rule in rules), max(rule["end"] for rule in rules)


def _price(request: Request, resource: dict[str, Any]) -> str:
    if not resource["price_per_slot_krw"]:
        return say(request, "Free")
    per = say(request, "per %(minutes)s minutes") % {"minutes": resource["granularity_min"]}
    return f"₩{resource['price_per_slot_krw']:,} {per}"


def _durations(resource: dict[str, Any]) -> list[int]:
    step = resource["granularity_min"]
    return list(range(resource["min_duration_min"], resource["max_duration_min"] + 1, step))


def _duration_text(request: Request, minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return say(request, "%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    if hours:
        return say(request, "%(hours)s h") % {"hours": hours}
    return say(request, "%(minutes)s min") % {"minutes": rest}


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """An instant as the wall-clock value of a datetime-local field in the resource's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _resource_page(
    request: Request,
    platform: Platform,
    resource_id: int,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A resource's page: what it is, when and how it is booked, its free slots and the booking form."""
    resource = resources.get_resource(platform, resource_id)
    about = service.resource_labels(platform, [resource_id])[resource_id]
    zone = ZoneInfo(resource["time_zone"])
    now = datetime.now(UTC)
    upcoming = service.free_slots(platform, resource_id, now, now + timedelta(days=NEXT_SLOTS_DAYS))["slots"]
    next_slots = [
        {"value": _local(slot["starts_at"], zone), "text": i18n.kst(slot["starts_at"])}
        for slot in upcoming[:NEXT_SLOTS_SHOWN]
    ]
    values = values or {}
    rules = resources.availability(platform, resource_id)["rules"]
    durations = [(str(minutes), _duration_text(request, minutes)) for minutes in _durations(resource)]
    return render(
        request,
        "booking/resource.html",
        status,
        resource=resource,
        about=about,
        kinds=KINDS,
        modes=MODES,
        price=_price(request, resource),
        policy=_policy_words(request, resource["cancellation_policy"]),
        rules=_rule_lines(request, rules),
        day_span=_day_span(rules),
        next_slots=next_slots,
        durations=durations,
        start=values.get("start", ""),
        duration=values.get("duration", str(resource["min_duration_min"])),
        idempotency_key=secrets.token_urlsafe(16),
        errors=errors or FormErrors(),
        may_book=resource["retired_at"] is None,
    )


@router.get("/resources/{resource_id}", response_class=HTMLResponse)
def resource_page(request: Request, resource_id: RowId, platform: PlatformDep) -> HTMLResponse:
    return _resource_page(request, platform, resource_id)


def _booking_of_form(resource: dict[str, Any], form: dict[str, str]) -> BookingIn:
    """The form's start (wall-clock time of the resource's zone) and duration as a booking request."""
    try:
        start = datetime.fromisoformat(form.get("start", "")[:40])
    except ValueError:
        start = None
    if start is None or not 2000 <= start.year <= 2100:  # far years would overflow adding the duration
        raise FieldError("start", mark("Enter a date and time."))
    duration = form.get("duration", "")
    if not duration.isdigit() or int(duration) not in _durations(resource):
        raise FieldError("duration", mark("Choose a duration."))
    starts_at = start.replace(tzinfo=ZoneInfo(resource["time_zone"]))
    try:
        return BookingIn(
            resource=resource["id"],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=int(duration)),
            idempotency_key=form.get("idempotency_key", "")[:200],
        )
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        raise FieldError(field, problem["msg"]) from None


@router.post("/resources/{resource_id}/book")
async def book(request: Request, resource_id: RowId, platform: PlatformDep) -> Response:
    """Book from the form; a refusal shows the page again with the reason in its language."""
    form = await form_of(request)
    user = visitor(request).user
    if user is None:
        return RedirectResponse(f"/login?next=/resources/{resource_id}", status_code=303)
    resource = resources.get_resource(platform, resource_id)
    try:
        made = service.create_booking(platform, user, _booking_of_form(resource, form))
    except (FieldError, Conflict) as refused:
        shown = {name: form.get(name, "")[:40] for name in FORM_FIELDS}
        errors = form_errors(request, _problems(refused), FORM_FIELDS, _REFUSALS)
        return _resource_page(request, platform, resource_id, shown, errors, refused.status)
    return RedirectResponse(f"/bookings?booked={made['id']}", status_code=303)


def _bookable(request: Request, platform: Platform, slug: str) -> list[dict[str, Any]]:
    """The node's resources that take bookings, with their price in words."""
    listed = [item for item in resources.resources_of(platform, slug) if item["retired_at"] is None]
    return [{**item, "price_text": _price(request, item)} for item in listed]


@router.get("/nodes/{slug}/resources", response_class=HTMLResponse)
def node_resources(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    """What a node lets members book (its page links here: the directory does not know about booking)."""
    listed = _bookable(request, platform, slug)
    labels = service.resource_labels(platform, [item["id"] for item in listed])
    node = next(iter(labels.values()))["node"] if labels else None
    return render(request, "booking/node_resources.html", slug=slug, node=node, listed=listed, kinds=KINDS, modes=MODES)


@router.get("/nodes/{slug}/resources/list", response_class=HTMLResponse)
def node_resource_list(request: Request, slug: str, platform: PlatformDep) -> Response:
    """The same list alone, for the node's page to show; nothing (204) when the node has nothing to book."""
    listed = _bookable(request, platform, slug)
    if not listed:
        return Response(status_code=204)
    return render(request, "booking/resource_list.html", listed=listed, kinds=KINDS, modes=MODES, alone=True)


def _shown(item: dict[str, Any], labels: dict[int, dict[str, Any]], now: datetime) -> dict[str, Any]:
    """A booking as "my bookings" lists it: its resource, and the refund a cancellation now would give."""
    cancellable = service.may_cancel_own(item, now)
    percent, amount = service.refund_preview(item, now) if cancellable else (0, 0)
    return {**item, "about": labels.get(item["resource"]), "cancellable": cancellable, "refund": (percent, amount)}


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(request: Request, platform: PlatformDep) -> HTMLResponse:
    """The member's bookings, upcoming (soonest first) and past; a booking just made or cancelled is named."""
    mine = service.my_bookings(platform, signed_in(request))
    labels = service.resource_labels(platform, [item["resource"] for item in mine])
    now = datetime.now(UTC)
    shown = [_shown(item, labels, now) for item in mine]
    upcoming = sorted((item for item in shown if item["ends_at"] > now), key=lambda item: item["starts_at"])
    past = [item for item in shown if item["ends_at"] <= now]
    by_id = {str(item["id"]): item for item in shown}
    return render(
        request,
        "booking/mine.html",
        upcoming=upcoming,
        past=past,
        booked=by_id.get(request.query_params.get("booked", "")),
        cancelled=by_id.get(request.query_params.get("cancelled", "")),
        states=STATES,
    )


def _own_booking(platform: Platform, request: Request, booking_id: int) -> dict[str, Any]:
    """The signed-in member's own booking (a host cancels from the inbox, where all is paid back)."""
    user = signed_in(request)
    item = service.get_booking(platform, user, booking_id)
    if item["member"] != user.id:
        raise Forbidden()
    return item


def _cancel_page(
    request: Request, platform: Platform, item: dict[str, Any], errors: FormErrors | None = None, status: int = 200
) -> HTMLResponse:
    labels = service.resource_labels(platform, [item["resource"]])
    shown = _shown(item, labels, datetime.now(UTC))
    return render(request, "booking/cancel.html", status, item=shown, states=STATES, errors=errors or FormErrors())


@router.get("/bookings/{booking_id}/cancel", response_class=HTMLResponse)
def cancel_page(request: Request, booking_id: RowId, platform: PlatformDep) -> HTMLResponse:
    """The refund a cancellation gives, shown before the member confirms it."""
    return _cancel_page(request, platform, _own_booking(platform, request, booking_id))


@router.post("/bookings/{booking_id}/cancel")
async def cancel(request: Request, booking_id: RowId, platform: PlatformDep) -> Response:
    """Cancel at the version the member saw; "my bookings" then shows the refund given."""
    form = await form_of(request)
    item = _own_booking(platform, request, booking_id)
    seen = {int(form["version"])} if form.get("version", "").isdigit() else None
    try:
        service.move_booking(platform, visitor(request).user, booking_id, "cancel", expected_versions=seen)
    except Conflict as refused:
        errors = form_errors(request, _problems(refused), (), _REFUSALS)
        return _cancel_page(request, platform, _own_booking(platform, request, booking_id), errors, refused.status)
    return RedirectResponse(f"/bookings?cancelled={item['id']}", status_code=303)
