"""Booking's pages: "my bookings" (KST), a host's list of machines to make bookable, and "free on …"
(무엇을 · 어디서 · 언제); the week calendar and booking form of a resource and the hosts' inbox come
next (docs/decisions/0005-booking.md), on the same services as the API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabcity.booking import finding, resources, service
from fabcity.booking.vocabulary import KINDS, STATES
from fabcity.clock import KST
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import FieldError, ServiceError
from fabcity.platform import Platform
from fabcity.web.auth import signed_in
from fabcity.web.deps import PlatformDep, RowId, form_of, render

router = APIRouter(include_in_schema=False)


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(request: Request, platform: PlatformDep) -> HTMLResponse:
    bookings = service.my_bookings(platform, signed_in(request))
    return render(request, "booking/mine.html", bookings=bookings, states=STATES)


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
