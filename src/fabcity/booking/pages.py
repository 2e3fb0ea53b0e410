"""Booking's pages, on the same services as the API (docs/decisions/0005-booking.md).

Members: a resource's page (what it is, its rules and cancellation policy in words, a week
calendar of free slots and the booking form), a node's bookable resources, and "my bookings"
with the refund a cancellation would give shown before it is confirmed. Every form works
without JavaScript; the calendar only fills the form. Times are shown in the resource's own zone
(Asia/Seoul unless a host says otherwise) and in KST on "my bookings".

Hosts: the resource forms, weekly openings and exceptions, the inbox with its day/week view;
curators: bookings across nodes. The hosts' buttons each post the version of the booking the page
showed: a button pressed after someone else moved the booking is refused by move_booking's
compare-and-swap and says so. Also: a node's trainings, a resource's calendars (feeds and imports),
a host's listed machines made bookable in one step, and "free on …" (무엇을 · 어디서 · 언제).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from fabcity.accounts.pages import back_to
from fabcity.booking import calendars, finding, hosting, qualifications, resources, service
from fabcity.booking import form as host_form
from fabcity.booking.models import BookingIn, Decision, PassIn, Payment, ResourceIn, RevokeIn, TrainingIn
from fabcity.booking.vocabulary import EXCEPTION_KINDS, KINDS, MODES, QUALIFICATION_STATUSES, STATES
from fabcity.clock import KST, seoul_wall_time
from fabcity.directory import editing
from fabcity.directory.hours import DAY_LABELS, DAYS
from fabcity.directory.models import NOTE_MAX, problems_of
from fabcity.directory.read import public_nodes
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ParameterError,
    PreconditionFailed,
    RecordInvalid,
    ServiceError,
)
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.storage.schema import node
from fabcity.web import i18n
from fabcity.web.auth import check_form, signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, SettingsDep, form_of, render, say
from fabcity.web.downloads import csv_download
from fabcity.web.forms import FormErrors, Messages, forget_notice, form_errors, notice_of, redirect_with_notice
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
async def book(
    request: Request, resource_id: RowId, platform: PlatformDep, settings: SettingsDep, background: BackgroundTasks
) -> Response:
    """Book from the form; a refusal shows the page again with the reason in its language."""
    form = await form_of(request)
    background.add_task(outbox.deliver, platform, settings.smtp)  # the notices a booking queues
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
        qualifications=qualifications.my_qualifications(platform, signed_in(request)),
        statuses=QUALIFICATION_STATUSES,
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
async def cancel(
    request: Request, booking_id: RowId, platform: PlatformDep, settings: SettingsDep, background: BackgroundTasks
) -> Response:
    """Cancel at the version the member saw; "my bookings" then shows the refund given."""
    form = await form_of(request)
    background.add_task(outbox.deliver, platform, settings.smtp)  # the hosts' notice
    item = _own_booking(platform, request, booking_id)
    seen = {int(form["version"])} if form.get("version", "").isdigit() else None
    try:
        service.move_booking(platform, visitor(request).user, booking_id, "cancel", expected_versions=seen)
    except Conflict as refused:
        errors = form_errors(request, _problems(refused), (), _REFUSALS)
        return _cancel_page(request, platform, _own_booking(platform, request, booking_id), errors, refused.status)
    return RedirectResponse(f"/bookings?cancelled={item['id']}", status_code=303)


# hosts
# The resource forms, weekly openings and exceptions of a node's resources, its inbox and day/week
# view: for the node's hosts, curators and admins (directory.editing.may_edit, as in the API). Every
# write checks that first, so a stranger's post is a 403 whatever it holds.


def _managed_node(platform: Platform, request: Request, slug: str) -> str:
    """The node's name, once the visitor is known to manage it (else 401/403)."""
    user = visitor(request).user
    with platform.engine.connect() as conn:
        pk = editing.node_pk_of(conn, slug)
        editing.require(editing.may_edit(conn, user, pk), user)
        names = conn.execute(select(node.c.name_ko, node.c.name_en).where(node.c.pk == pk)).one()
    return i18n.label(tuple(names), i18n.language_of(request)) or slug


def _resource_of(platform: Platform, slug: str, resource_id: int) -> dict[str, Any]:
    """The resource, if it is one of this node's (an address mixing two nodes names nothing)."""
    resource = resources.get_resource(platform, resource_id)
    with platform.engine.connect() as conn:
        if resource["node"] != editing.node_id_of(conn, slug):
            raise NotFound(f"no resource {resource_id} at {slug}")
    return resource


def _version_of(form: dict[str, str]) -> set[int]:
    """The version the page was showing; a post without a readable one is refused (it could undo a change)."""
    value = form.get("version", "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise RecordInvalid([FieldError("version", "not a version number; open the form again")])
    return {int(value)}


def _kept(form: dict[str, str]) -> dict[str, str]:
    """A refused form's values as shown again: never more of each than a field can hold."""
    return {key: value[:NOTE_MAX] for key, value in form.items()}


def _without_notice(request: Request, response: HTMLResponse) -> HTMLResponse:
    forget_notice(request, response)
    return response


_RESOURCE_LABELS = {
    "kind": mark("Kind"), "name_ko": mark("Name (Korean)"), "name_en": mark("Name (English)"),
    "units": mark("Units"), "granularity_min": mark("Slot length"),
    "min_duration_min": mark("Shortest booking (minutes)"), "max_duration_min": mark("Longest booking (minutes)"),
    "lead_time_min": mark("Booking closes this many minutes before the start"),
    "horizon_days": mark("Bookable this many days ahead"),
    "buffer_before_min": mark("Free time before each booking (minutes)"),
    "buffer_after_min": mark("Free time after each booking (minutes)"),
    "mode": mark("Confirmation"), "hold_hours": mark("Hold (hours)"),
    "price_per_slot_krw": mark("Price per slot (won)"),
    "cancellation_policy": mark("Cancellation policy"), "parent": mark("Inside"), "time_zone": mark("Time zone"),
}  # fmt: skip
_RESOURCE_HELP = {
    "units": mark("Names of the identical units, separated by commas, e.g. 1, 2, 3. A unit is never removed."),
    "hold_hours": mark("How long a request, then an unpaid booking, keeps its slot."),
    "price_per_slot_krw": mark("0: free, no payment step."),
    "cancellation_policy": mark(
        "Days before the start : percent refunded, separated by commas, e.g. 7:100, 3:50, 0:0."
        " A host's cancellation always refunds everything."
    ),
    "parent": mark("A room that holds this resource: booking one blocks the other."),
    "time_zone": mark("The weekly openings are in this zone's local time."),
}
# Booking's messages (models, resources, the forms here) as people read them; see web/forms.py.
_MESSAGES = (
    (r"a whole number of (?P<minutes>\d+)-minute slots", mark("A whole number of %(minutes)s-minute slots.")),
    (r"longer than max_duration_min", mark("Longer than the longest booking.")),
    (r"not a known IANA time zone.*", mark("Not a known time zone; write it like Asia/Seoul.")),
    (r"each unit needs its own non-empty label", mark("Give each unit its own name.")),
    (
        r"a unit is never removed \(it may hold bookings\): (?P<units>.*)",
        mark("A unit is never removed (it may hold bookings): %(units)s"),
    ),
    (r"not a resource of this node", mark("Not a resource of this node.")),
    (
        r"a resource inside another one cannot hold resources itself|this resource holds other resources.*",
        mark("A resource holds others or sits inside one, not both."),
    ),
    (r"write each tier as days:percent.*", mark("Write each tier as days:percent, e.g. 7:100, 3:50, 0:0.")),
    (r"String should have at least 1 characters?", mark("Fill this in.")),
    (r"Input should be .*'.*", mark("Choose one of the options.")),
    (r"a local time of day, HH:MM.*", mark("A time of day, e.g. 09:00.")),
    (r"must be after start", mark("Must be after the start.")),
    (r"before valid_from", mark("Before the first day.")),
    (r"must be after starts_at", mark("Must be after the start.")),
    (r"at most a year after starts_at", mark("At most a year after the start.")),
    (r"a date and time, .*", mark("A date and time, e.g. 2027-03-03 10:00.")),
    (r"Input should be a valid date.*", mark("A date, e.g. 2027-03-03.")),
    (r"choose a day", mark("Choose a day.")),
    (r"not a version number.*", mark("The form is out of date; open it again.")),
)
_CHANGED_MEANWHILE = mark(
    "Someone saved this resource after you opened this form. Your input is kept below: save again to replace"
    " their change with yours."
)


def _resource_fields(
    request: Request, platform: Platform, slug: str, values: dict[str, str], own_id: int | None
) -> list[dict[str, Any]]:
    language = i18n.language_of(request)
    minutes = say(request, "%(minutes)s minutes")
    holders = [
        (str(r["id"]), i18n.label((r["name_ko"], r["name_en"]), language))
        for r in resources.resources_of(platform, slug)
        if r["parent"] is None and r["id"] != own_id and r["retired_at"] is None
    ]
    choices = {
        "kind": [(key, i18n.label(pair, language)) for key, pair in KINDS.items()],
        "mode": [(key, i18n.label(pair, language)) for key, pair in MODES.items()],
        "granularity_min": [(str(n), minutes % {"minutes": n}) for n in (15, 30, 60)],
        "parent": [("", "—"), *holders],
    }
    fields = []
    for name, text in _RESOURCE_LABELS.items():
        field: dict[str, Any] = {"name": name, "label": say(request, text), "value": values.get(name, "")}
        if name in choices:
            field.update(kind="select", options=choices[name])
        elif name.endswith(("_min", "_hours", "_days", "_krw")):
            field.update(kind="number")
        if name in _RESOURCE_HELP:
            field["help"] = say(request, _RESOURCE_HELP[name])
        fields.append(field)
    return fields


def _resource_form(
    request: Request,
    platform: Platform,
    slug: str,
    values: dict[str, str],
    *,
    resource_id: int | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
    version: int | str | None = None,
) -> HTMLResponse:
    """The resource form: new at /resources/new, else the resource's edit form carrying the version it shows."""
    fields = _resource_fields(request, platform, slug, values, resource_id)
    if resource_id is None:
        action, heading = f"/nodes/{slug}/resources/new", say(request, "Add a bookable resource")
    else:
        action, heading = f"/nodes/{slug}/resources/{resource_id}/edit", say(request, "Edit the resource")
        fields.append({"name": "version", "kind": "hidden", "label": "", "value": str(version)})
    after = [(f"/nodes/{slug}/resources/manage", say(request, "Bookable resources"))]
    return render(
        request, "form_page.html", status, heading=heading, action=action, fields=fields,
        submit=say(request, "Save"), errors=errors or FormErrors(), after=after,
    )  # fmt: skip


def _errors(request: Request, invalid: RecordInvalid, fields: set[str]) -> FormErrors:
    return form_errors(request, [(p.field, p.message) for p in invalid.problems], fields, _MESSAGES)


@router.get("/nodes/{slug}/resources/manage", response_class=HTMLResponse)
def host_resources(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    name = _managed_node(platform, request, slug)
    listed = resources.resources_of(platform, slug)
    page = render(
        request, "booking/host_resources.html", slug=slug, node_name=name, resources=listed, kinds=KINDS,
        modes=MODES, message=notice_of(request),
    )  # fmt: skip
    return _without_notice(request, page)


# before /nodes/{slug}/resources/{resource_id}…, which would take 'new' for an id
@router.get("/nodes/{slug}/resources/new", response_class=HTMLResponse)
def new_resource_page(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    _managed_node(platform, request, slug)
    defaults = ResourceIn(node=slug, kind="machine", name_ko="-").model_dump()
    values = host_form.resource_values({**defaults, "name_ko": ""})
    return _resource_form(request, platform, slug, values)


@router.post("/nodes/{slug}/resources/new")
async def create_resource(request: Request, slug: str, platform: PlatformDep) -> Response:
    form = await form_of(request)
    _managed_node(platform, request, slug)
    try:
        data = host_form.read_resource(form, slug)
        created = resources.create_resource(platform, visitor(request).user, data)
    except RecordInvalid as invalid:
        errors = _errors(request, invalid, set(_RESOURCE_LABELS))
        return _resource_form(request, platform, slug, _kept(form), errors=errors, status=422)
    return redirect_with_notice(request, f"/nodes/{slug}/resources/{created['id']}/hours", "saved")


@router.get("/nodes/{slug}/resources/{resource_id}/edit", response_class=HTMLResponse)
def edit_resource_page(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> HTMLResponse:
    _managed_node(platform, request, slug)
    resource = _resource_of(platform, slug, resource_id)
    values = host_form.resource_values(resource)
    return _resource_form(request, platform, slug, values, resource_id=resource_id, version=resource["version"])


@router.post("/nodes/{slug}/resources/{resource_id}/edit")
async def edit_resource(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> Response:
    """Save the form, unless the resource was saved by someone else after the form was opened (its version)."""
    form = await form_of(request)
    _managed_node(platform, request, slug)
    resource = _resource_of(platform, slug, resource_id)
    try:
        expected = _version_of(form)
        patch = host_form.read_resource(form, resource["node"]).model_dump(exclude={"node"})
        resources.update_resource(platform, visitor(request).user, resource_id, patch, expected)
    except RecordInvalid as invalid:
        errors = _errors(request, invalid, set(_RESOURCE_LABELS))
        return _resource_form(
            request, platform, slug, _kept(form), resource_id=resource_id, errors=errors, status=422,
            version=form.get("version", "")[:18],
        )  # fmt: skip
    except PreconditionFailed:
        stale = FormErrors(general=[f"{say(request, 'Changed meanwhile')}: {say(request, _CHANGED_MEANWHILE)}"])
        current = resources.get_resource(platform, resource_id)["version"]
        return _resource_form(
            request, platform, slug, _kept(form), resource_id=resource_id, errors=stale, status=409, version=current
        )
    return redirect_with_notice(request, f"/nodes/{slug}/resources/manage", "saved")


@router.post("/nodes/{slug}/resources/{resource_id}/retire")
async def retire_resource(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> Response:
    form = await form_of(request)
    _managed_node(platform, request, slug)
    _resource_of(platform, slug, resource_id)
    try:
        resources.retire_resource(platform, visitor(request).user, resource_id, _version_of(form))
    except (PreconditionFailed, RecordInvalid):
        return redirect_with_notice(request, f"/nodes/{slug}/resources/manage", "changed_meanwhile")
    return redirect_with_notice(request, f"/nodes/{slug}/resources/manage", "saved")


def _hours_page(
    request: Request,
    platform: Platform,
    slug: str,
    resource_id: int,
    *,
    values: dict[str, str] | None = None,
    rule_errors: FormErrors | None = None,
    exception_errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A resource's weekly openings and exceptions (in KST), each removable, with a form to add each."""
    name = _managed_node(platform, request, slug)
    resource = _resource_of(platform, slug, resource_id)
    language = i18n.language_of(request)
    with platform.engine.connect() as conn:
        hours = conn.execute(select(node.c.opening_hours).where(node.c.slug == slug)).scalar_one_or_none()
    weekdays = [(str(n), i18n.label(DAY_LABELS[day], language)) for n, day in enumerate(DAYS)]
    page = render(
        request, "booking/host_hours.html", status, slug=slug, node_name=name, resource=resource,
        availability=resources.availability(platform, resource_id), day_labels=[label for _, label in weekdays],
        weekday_options=[("weekdays", say(request, "Monday to Friday")), ("every_day", say(request, "Every day")),
                         *weekdays],
        exception_kinds={k: v for k, v in EXCEPTION_KINDS.items() if k != "external_block"},
        all_exception_kinds=EXCEPTION_KINDS, node_hours=bool(host_form.rules_of_node_hours(hours)),
        values=values or {}, rule_errors=rule_errors or FormErrors(),
        exception_errors=exception_errors or FormErrors(), message=notice_of(request),
    )  # fmt: skip
    return _without_notice(request, page)


@router.get("/nodes/{slug}/resources/{resource_id}/hours", response_class=HTMLResponse)
def resource_hours(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> HTMLResponse:
    return _hours_page(request, platform, slug, resource_id)


@router.post("/nodes/{slug}/resources/{resource_id}/rules")
async def add_rules(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> Response:
    form = await form_of(request)
    _managed_node(platform, request, slug)
    _resource_of(platform, slug, resource_id)
    try:
        rules = host_form.rules_of_form(form)
    except RecordInvalid as invalid:
        fields = {"weekday", "start", "end", "valid_from", "valid_until"}
        errors = _errors(request, invalid, fields)
        return _hours_page(request, platform, slug, resource_id, values=_kept(form), rule_errors=errors, status=422)
    for rule in rules:
        resources.add_rule(platform, visitor(request).user, resource_id, rule)
    return redirect_with_notice(request, f"/nodes/{slug}/resources/{resource_id}/hours", "saved")


@router.post("/nodes/{slug}/resources/{resource_id}/rules/from-node")
async def copy_node_hours(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> Response:
    """The node's opening hours (when plain weekday rows) added as the resource's weekly openings."""
    await form_of(request)
    _managed_node(platform, request, slug)
    _resource_of(platform, slug, resource_id)
    with platform.engine.connect() as conn:
        hours = conn.execute(select(node.c.opening_hours).where(node.c.slug == slug)).scalar_one()
    for rule in host_form.rules_of_node_hours(hours):
        resources.add_rule(platform, visitor(request).user, resource_id, rule)
    return redirect_with_notice(request, f"/nodes/{slug}/resources/{resource_id}/hours", "saved")


@router.post("/nodes/{slug}/resources/{resource_id}/rules/{rule_id}/remove")
async def remove_rule(
    request: Request, slug: str, resource_id: RowId, rule_id: RowId, platform: PlatformDep
) -> Response:
    await form_of(request)
    _managed_node(platform, request, slug)
    _resource_of(platform, slug, resource_id)
    resources.remove_rule(platform, visitor(request).user, resource_id, rule_id)
    return redirect_with_notice(request, f"/nodes/{slug}/resources/{resource_id}/hours", "saved")


@router.post("/nodes/{slug}/resources/{resource_id}/exceptions")
async def add_exception(request: Request, slug: str, resource_id: RowId, platform: PlatformDep) -> Response:
    form = await form_of(request)
    _managed_node(platform, request, slug)
    _resource_of(platform, slug, resource_id)
    try:
        resources.add_exception(platform, visitor(request).user, resource_id, host_form.exception_of_form(form))
    except RecordInvalid as invalid:
        errors = _errors(request, invalid, {"kind", "starts_at", "ends_at", "note"})
        return _hours_page(
            request, platform, slug, resource_id, values=_kept(form), exception_errors=errors, status=422
        )
    return redirect_with_notice(request, f"/nodes/{slug}/resources/{resource_id}/hours", "saved")


@router.post("/nodes/{slug}/resources/{resource_id}/exceptions/{exception_id}/remove")
async def remove_exception(
    request: Request, slug: str, resource_id: RowId, exception_id: RowId, platform: PlatformDep
) -> Response:
    await form_of(request)
    _managed_node(platform, request, slug)
    _resource_of(platform, slug, resource_id)
    resources.remove_exception(platform, visitor(request).user, resource_id, exception_id)
    return redirect_with_notice(request, f"/nodes/{slug}/resources/{resource_id}/hours", "saved")


# The moves a host's button may ask for, each with the label it shows and whether it asks for a reason.
_BUTTONS = {
    "approve": (mark("Approve"), False),
    "decline": (mark("Decline"), True),
    "mark_paid": (mark("Mark paid"), False),
    "cancel": (mark("Cancel (full refund)"), True),
    "no_show": (mark("No-show"), False),
    "complete": (mark("Completed"), False),
}


def _buttons_for(item: dict[str, Any]) -> list[str]:
    """The moves a host can make on a booking as it stands (booking.service.MOVES)."""
    return [
        action
        for action, move in service.MOVES.items()
        if move.by_manager and item["state"] in move.sources and (item["started"] or not move.once_started)
    ]


def _day_of(value: str | None) -> date:
    """?date= as a Seoul day; today in Seoul without one."""
    if not value:
        return datetime.now(UTC).astimezone(KST).date()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:  # far dates would overflow the week's arithmetic
        raise ParameterError("date", "a date between the years 2000 and 2100, e.g. 2027-03-03")
    return day


@router.get("/nodes/{slug}/bookings", response_class=HTMLResponse)
def host_inbox(
    request: Request,
    slug: str,
    platform: PlatformDep,
    day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
    view: Annotated[str, Query(max_length=10)] = "week",
) -> HTMLResponse:
    """Requests, payments due and confirmed bookings to see through, then every booking by day or week."""
    name = _managed_node(platform, request, slug)
    view = "day" if view == "day" else "week"  # anything else: the week
    user = visitor(request).user
    first = _day_of(day)
    if view == "week":
        first -= timedelta(days=first.weekday())
    span = 7 if view == "week" else 1
    page = render(
        request, "booking/inbox.html", slug=slug, node_name=name, inbox=hosting.inbox(platform, user, slug),
        by_day=hosting.node_bookings(platform, user, slug, first, span), view=view, first=first,
        earlier=(first - timedelta(days=span)).isoformat(), later=(first + timedelta(days=span)).isoformat(),
        states=STATES, buttons=_BUTTONS, buttons_for=_buttons_for, back=str(request.url.path)
        + (f"?{request.url.query}" if request.url.query else ""), day_labels=DAY_LABELS, days=DAYS,
        message=notice_of(request),
    )  # fmt: skip
    return _without_notice(request, page)


@router.post("/nodes/{slug}/bookings/{booking_id}/{action}")
async def move_booking(
    request: Request,
    slug: str,
    booking_id: RowId,
    action: str,
    platform: PlatformDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> Response:
    """One host's button: the move is made only from the version the page showed."""
    form = await form_of(request)
    background.add_task(outbox.deliver, platform, settings.smtp)  # the member's notice
    _managed_node(platform, request, slug)
    if action not in _BUTTONS:
        raise NotFound(f"no action {action}")
    back = back_to(form.get("back")) or f"/nodes/{slug}/bookings"
    try:
        reason = Decision(reason=form.get("reason", "")).reason
    except ValidationError:
        raise FieldError("reason", f"at most {NOTE_MAX} characters, without control characters") from None
    try:
        payment = Payment(method=form.get("method", "on_site")) if action == "mark_paid" else None
    except ValidationError:
        raise FieldError("method", "on_site, transfer or provider") from None
    try:
        expected = _version_of(form)
        service.move_booking(platform, visitor(request).user, booking_id, action, reason, expected, payment=payment)
    except (PreconditionFailed, RecordInvalid):
        return redirect_with_notice(request, back, "changed_meanwhile")
    except Conflict:
        return redirect_with_notice(request, back, "refused")
    return redirect_with_notice(request, back, "saved")


# curators


def _filters_of(request: Request) -> hosting.Filters:
    query = request.query_params
    days = {}
    for name in ("from", "to"):
        value = (query.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            raise ParameterError(name, "a date, e.g. 2027-03-03") from None
    return hosting.Filters(
        node=(query.get("node") or "").strip()[:200] or None,
        state=query.get("state") or None,
        first_day=days["from"],
        last_day=days["to"],
    )


def _csv_rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": item["id"], "node": item["node"], "resource": item["resource_name"][0], "unit": item["unit"],
            "member": item["member_name"], "email": item["member_email"], "starts_kst": i18n.kst(item["starts_at"]),
            "ends_kst": i18n.kst(item["ends_at"]), "state": item["state"], "price_krw": item["price_krw"],
            "refund_krw": item["refund_krw"] if item["refund_krw"] is not None else "",
        }
        for item in found
    ]  # fmt: skip


@router.get("/bookings/all", response_model=None)
def all_bookings(
    request: Request,
    platform: PlatformDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str, Query(pattern="^(html|csv)$")] = "html",  # noqa: A002
) -> Response:
    """Bookings across nodes, for curators and admins: filtered, a page at a time, or all of them as CSV."""
    user = signed_in(request)
    filters = _filters_of(request)
    if format == "csv":
        found, _ = hosting.all_bookings(platform, user, filters, 1, hosting.EXPORT_LIMIT)
        return csv_download(_csv_rows(found), "bookings.csv")
    found, total = hosting.all_bookings(platform, user, filters, page, hosting.PAGE_SIZE)
    kept = {key: value for key, value in request.query_params.items() if key not in ("page", "format") and value}
    pages = max(1, -(-total // hosting.PAGE_SIZE))
    return render(
        request, "booking/all.html", bookings=found, total=total, page=page, pages=pages, filters=filters,
        query=urlencode(kept), csv_query=urlencode({**kept, "format": "csv"}),
        nodes=hosting.nodes_with_resources(platform), states=STATES,
    )  # fmt: skip


# calendars
# A host's page for a resource's calendars: feed addresses (shown once, revocable), import from a
# file or an address, and what the last import did. The feed itself is read by calendar apps.

# Import refusals (booking.calendars) as the page says them, in the visitor's language.
_IMPORT_MESSAGES: Messages = (
    (r"line (?P<line>\d+): not UTF-8 text", mark("Line %(line)s is not UTF-8 text.")),
    (r"line (?P<line>\d+): not an iCalendar line.*", mark("Line %(line)s is not an iCalendar line (NAME:value).")),
    (r"not iCalendar.*", mark("This is not an iCalendar (.ics) calendar.")),
    (r"(?P<event>.+) has no DTSTART", mark("%(event)s has no start (DTSTART).")),
    (r"(the calendar is )?larger than (?P<kb>\d+) KB", mark("The calendar is larger than %(kb)s KB.")),
    (r"more than (?P<count>\d+) busy periods.*", mark("More than %(count)s busy periods within the booking horizon.")),
    (r"its recurrences cannot be expanded.*", mark("The repeating events of this calendar cannot be read.")),
    (r"the calendar's server answered (?P<code>\d+)", mark("The calendar's server answered %(code)s.")),
    (r"the calendar could not be fetched.*", mark("The calendar could not be fetched from this address.")),
    (r"give the calendar's address.*", mark("Choose a file or give the calendar's address.")),
    (r"names a local or private address.*", mark("Calendars are fetched only from public addresses.")),
    (
        r"an http, https or webcal address|names no server|longer than \d+ characters",
        mark("Give an http, https or webcal address."),
    ),
    (r"(?P<event>event .+|the event at line \d+): .+", mark("%(event)s cannot be read.")),
)


def _calendars_page(
    request: Request, platform: Platform, resource_id: int, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    user = visitor(request).user
    state = calendars.import_state(platform, user, resource_id)
    feeds = calendars.feeds_of(platform, user, resource_id)
    resource = resources.get_resource(platform, resource_id)
    return render(
        request, "booking/calendars.html", status_code, resource=resource, feeds=feeds, **state,
        **({"new_url": None, "result": None, "errors": None} | shown),
    )  # fmt: skip


@router.get("/resources/{resource_id}/calendars", response_class=HTMLResponse)
def calendars_page(request: Request, resource_id: RowId, platform: PlatformDep) -> HTMLResponse:
    return _calendars_page(request, platform, resource_id)


@router.post("/resources/{resource_id}/calendars/feeds", response_class=HTMLResponse)
async def new_calendar_feed(
    request: Request, resource_id: RowId, platform: PlatformDep, settings: SettingsDep
) -> HTMLResponse:
    await form_of(request)
    _feed, secret = calendars.create_feed(platform, visitor(request).user, resource_id)
    return _calendars_page(request, platform, resource_id, new_url=settings.public_url + calendars.feed_path(secret))


@router.post("/resources/{resource_id}/calendars/import", response_class=HTMLResponse)
async def import_calendar(request: Request, resource_id: RowId, platform: PlatformDep) -> HTMLResponse:
    """A file (multipart upload) if one is chosen, else the address in the form."""
    form = await request.form()
    check_form(request, str(form.get("csrf") or ""))
    upload = form.get("file")
    data = await upload.read(calendars.MAX_CALENDAR_BYTES + 1) if isinstance(upload, UploadFile) else b""
    url = str(form.get("url") or "")
    user = visitor(request).user
    try:
        result = await run_in_threadpool(
            calendars.import_calendar, platform, user, resource_id, data or None, None if data else url
        )
    except FieldError as error:
        errors = form_errors(request, [(error.field, error.message)], (), _IMPORT_MESSAGES)
        return _calendars_page(request, platform, resource_id, 422, errors=errors)
    return _calendars_page(request, platform, resource_id, result=result)


def _my_calendar_page(request: Request, platform: Platform, new_url: str | None = None) -> HTMLResponse:
    """A member's feeds of their own bookings; a new one's address once, just after it is made."""
    feeds = [feed for feed in calendars.feeds_of(platform, signed_in(request)) if feed["resource"] is None]
    return render(request, "booking/calendar_mine.html", feeds=feeds, new_url=new_url)


@router.get("/calendars", response_class=HTMLResponse)
def my_calendar_page(request: Request, platform: PlatformDep) -> HTMLResponse:
    return _my_calendar_page(request, platform)


@router.post("/calendars/feeds", response_class=HTMLResponse)
async def new_my_calendar_feed(request: Request, platform: PlatformDep, settings: SettingsDep) -> HTMLResponse:
    await form_of(request)
    _feed, secret = calendars.create_feed(platform, visitor(request).user, None)
    return _my_calendar_page(request, platform, new_url=settings.public_url + calendars.feed_path(secret))


@router.post("/calendars/feeds/{feed_id}/revoke")
async def revoke_calendar_feed(request: Request, feed_id: RowId, platform: PlatformDep) -> Response:
    """Back to the page the feed is listed on: its resource's calendars, or the member's own."""
    await form_of(request)
    feed = calendars.revoke_feed(platform, visitor(request).user, feed_id)
    back = f"/resources/{feed['resource']}/calendars" if feed["resource"] else "/calendars"
    return RedirectResponse(back, status_code=303)


@router.api_route("/calendars/{secret}.ics", methods=["GET", "HEAD"], response_class=Response)
def calendar_feed(secret: str, platform: PlatformDep) -> Response:
    """What a calendar app subscribed to a feed reads (text/calendar); 404 once the feed is revoked."""
    return Response(
        calendars.feed_calendar(platform, secret),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


# trainings


_TRAINING_FIELDS = ("name_ko", "name_en", "valid_months", "lapse_months")
_PASS_FIELDS = ("training", "email", "passed_on", "note")
# What the qualification services and their models say, as people read it; see web/forms.py.
_TRAINING_MESSAGES = (
    (r"String should have at least 1 character", mark("Fill this in.")),
    (r"String should have at least \d+ characters", mark("Not an e-mail address.")),
    (r"Input should be a valid date.*", mark("Enter a day, like 2027-03-02.")),
    (r"no account has this e-mail address", mark("No account has this e-mail address.")),
    (r"a day in the future", mark("The day cannot be in the future.")),
    (r"this training is retired.*", mark("This training is retired.")),
    (r"this qualification is revoked already", mark("This qualification was revoked already; nothing was changed.")),
    (r"no training .*", mark("Choose a training.")),
)


def _optional(form: dict[str, str], names: tuple[str, ...]) -> dict[str, str | None]:
    """The posted values of these fields, an empty one as absent."""
    return {name: (form.get(name) or "").strip() or None for name in names}


def _trainings_page(
    request: Request,
    platform: Platform,
    slug: str,
    problems: Sequence[FieldError] = (),
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A node's trainings with who passed them, and the forms to add one, record a pass and revoke one."""
    user = visitor(request).user
    trainings = qualifications.trainings_of(platform, user, slug, managers_only=True)
    with platform.engine.connect() as conn:
        name = public_nodes(conn, [editing.node_pk_of(conn, slug)])[0]["name"]
    fields = {*_TRAINING_FIELDS, *_PASS_FIELDS}
    errors = form_errors(request, [(p.field, p.message) for p in problems], fields, _TRAINING_MESSAGES)
    response = render(
        request,
        "booking/trainings.html",
        status,
        heading=f"{say(request, 'Trainings')}: {i18n.label(name, i18n.language_of(request))}",
        slug=slug,
        trainings=trainings,
        active=[t for t in trainings if t["retired_at"] is None],
        statuses=QUALIFICATION_STATUSES,
        errors=errors,
        values=values or {"passed_on": seoul_wall_time().date().isoformat()},
        message=notice_of(request),
    )
    forget_notice(request, response)
    return response


@router.get("/nodes/{slug}/trainings", response_class=HTMLResponse)
def trainings_page(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    return _trainings_page(request, platform, slug)


@router.post("/nodes/{slug}/trainings")
async def add_training(request: Request, slug: str, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        data = TrainingIn.model_validate({"name_ko": form.get("name_ko", ""), **_optional(form, _TRAINING_FIELDS[1:])})
        qualifications.create_training(platform, visitor(request).user, slug, data)
    except ValidationError as error:
        return _trainings_page(request, platform, slug, problems_of(error), form, 422)
    except FieldError as error:
        return _trainings_page(request, platform, slug, [error], form, 422)
    return redirect_with_notice(request, f"/nodes/{quote(slug)}/trainings", "saved")


@router.post("/nodes/{slug}/trainings/passes")
async def record_pass(request: Request, slug: str, platform: PlatformDep) -> Response:
    form = await form_of(request)
    training = form.get("training", "")
    try:
        data = PassIn.model_validate({name: form.get(name, "") for name in ("email", "passed_on", "note")})
        if not training.isascii() or not training.isdigit() or len(training) > 9:
            raise FieldError("training", "no training chosen")
        qualifications.record_pass(platform, visitor(request).user, int(training), data)
    except ValidationError as error:
        return _trainings_page(request, platform, slug, problems_of(error), form, 422)
    except (FieldError, NotFound) as error:
        problem = error if isinstance(error, FieldError) else FieldError("training", str(error))
        return _trainings_page(request, platform, slug, [problem], form, 422)
    except Conflict as error:
        return _trainings_page(request, platform, slug, [FieldError("training", _said(error))], form, 409)
    return redirect_with_notice(request, f"/nodes/{quote(slug)}/trainings", "saved")


@router.post("/nodes/{slug}/trainings/revoke/{qualification_id}")
async def revoke_pass(request: Request, slug: str, qualification_id: RowId, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        reason = RevokeIn.model_validate({"reason": form.get("reason", "")}).reason
        qualifications.revoke(platform, visitor(request).user, qualification_id, reason)
    except ValidationError:
        return _trainings_page(request, platform, slug, [FieldError("reason", _SAY_WHY)], {}, 422)
    except Conflict as error:
        return _trainings_page(request, platform, slug, [FieldError("revoke", _said(error))], {}, 409)
    return redirect_with_notice(request, f"/nodes/{quote(slug)}/trainings", "saved")


def _said(error: Conflict) -> str:
    """A conflict's message without the field it names ("revoked_at: …")."""
    return str(error).split(": ", 1)[-1]


_SAY_WHY = mark("Say why the qualification is revoked.")

# from machine


@router.get("/nodes/{slug}/machines/bookable", response_class=HTMLResponse)
def bookable_machines(request: Request, slug: str, platform: PlatformDep) -> HTMLResponse:
    """A host's list of the node's machines, each with a button that makes it bookable (or its resource)."""
    machines = resources.bookable_machines(platform, signed_in(request), slug)
    return render(request, "booking/machines.html", slug=slug, machines=machines)


@router.post("/nodes/{slug}/machines/{equipment_pk}/bookable")
async def make_machine_bookable(request: Request, slug: str, equipment_pk: RowId, platform: PlatformDep) -> Response:
    await form_of(request)
    resources.resource_from_machine(platform, signed_in(request), slug, equipment_pk)
    return RedirectResponse(f"/nodes/{slug}/machines/bookable", status_code=303)


# free

# The kinds the "free" form offers: the booking kinds, then the machines most asked for.
FORM_KINDS = ("focus_booth", "desk", "meeting_room", "production_line")
FORM_EQUIPMENT = ("laser_cutter", "3d_printer", "cnc_router", "vinyl_cutter", "sewing_machine", "uv_printer")


def _kind_options() -> list[tuple[str, tuple[str, str]]]:
    """(kind, (ko, en)) for the form's choices."""
    terms = [taxonomy().get("equipment_types", kind) for kind in FORM_EQUIPMENT]
    booking_kinds = [(kind, KINDS[finding.BOOKING_KINDS[kind]]) for kind in FORM_KINDS]
    return booking_kinds + [(term.id, (term.label_ko, term.label_en)) for term in terms]


def _place(platform: Platform, where: str, near: str) -> finding.Place:
    """My location (near), or the text typed: a gu when it names one (금천구, not the station 금천구청),
    else a station."""
    if near:
        return finding.place_of(platform, near, None, None, None)
    for station, gu in ((None, where), (where, None)):
        try:
            return finding.place_of(platform, None, station, gu, None)
        except ServiceError:
            continue
    raise FieldError("where", "no station or gu is called that")


def _period(day: str, start: str, end: str) -> tuple[datetime, datetime]:
    """The form's date and times, in Seoul, as UTC instants."""
    try:
        local = date.fromisoformat(day)
        starts, ends = (datetime.combine(local, time.fromisoformat(clock), tzinfo=KST) for clock in (start, end))
    except ValueError:
        raise FieldError("date", "a date and two times of day") from None
    return starts.astimezone(UTC), ends.astimezone(UTC)


def _map_data(found: dict[str, Any], place: finding.Place) -> dict[str, Any]:
    """What the page's small map draws: the place looked around and the resources found (free now or later)."""
    return {
        "place": {"lat": place.lat, "lon": place.lon, "radius_m": None if place.gu_code else place.radius_m},
        "results": [
            {"id": item["resource"]["id"], "name": item["resource"]["name"], "free": bool(item["free_units"]),
             **item["node"]["location"]}
            for item in found["results"] + found["later"]
            if item["node"]["location"]["lat"] is not None
        ],
    }  # fmt: skip


@router.get("/free", response_class=HTMLResponse)
def free_page(
    request: Request,
    platform: PlatformDep,
    kind: Annotated[str, Query(max_length=60)] = "focus_booth",
    where: Annotated[str, Query(max_length=60)] = "",
    near: Annotated[str, Query(max_length=60)] = "",
    day: Annotated[str, Query(alias="date", max_length=10)] = "",
    start: Annotated[str, Query(max_length=5)] = "10:00",
    end: Annotated[str, Query(max_length=5)] = "11:00",
) -> HTMLResponse:
    """무엇을 · 어디서 · 언제: the resources of a kind free for a period near a station, in a gu or near me."""
    day = day or (datetime.now(KST) + timedelta(days=1)).date().isoformat()
    form = {"kind": kind, "where": where, "near": near, "date": day, "start": start, "end": end}
    context: dict[str, Any] = {"form": form, "kinds": _kind_options(), "found": None, "problem": None}
    status = 200
    if where or near:
        try:
            place = _place(platform, where, near)
            found = finding.find_free(platform, kind, place, *_period(day, start, end))
            context["found"] = found
            context["map_data"] = json.dumps(_map_data(found, place), ensure_ascii=False)
        except FieldError as error:
            context["problem"], status = error.field, 422
    return render(request, "booking/free.html", status_code=status, **context)
