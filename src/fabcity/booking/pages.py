"""Booking's pages: for now "my bookings" (KST); the week calendar and booking form of a resource and
the hosts' inbox come next (docs/decisions/0005-booking.md), on the same services as the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from fabcity.booking import calendars, resources, service
from fabcity.booking.vocabulary import STATES
from fabcity.errors import FieldError
from fabcity.platform import Platform
from fabcity.web.auth import check_form, signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, SettingsDep, form_of, render
from fabcity.web.forms import Messages, form_errors
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(request: Request, platform: PlatformDep) -> HTMLResponse:
    bookings = service.my_bookings(platform, signed_in(request))
    return render(request, "booking/mine.html", bookings=bookings, states=STATES)


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
