"""Booking's pages: for now "my bookings" (KST); the week calendar and booking form of a resource and
the hosts' inbox come next (docs/decisions/0005-booking.md), on the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fabcity.booking import service
from fabcity.booking.vocabulary import STATES
from fabcity.web.auth import signed_in
from fabcity.web.deps import PlatformDep, render

router = APIRouter(include_in_schema=False)


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(request: Request, platform: PlatformDep) -> HTMLResponse:
    bookings = service.my_bookings(platform, signed_in(request))
    return render(request, "booking/mine.html", bookings=bookings, states=STATES)
