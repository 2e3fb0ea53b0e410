"""Booking's JSON endpoints: resources and their availability, free slots, bookings and their moves.

Thin: each endpoint reads its parameters and calls booking.resources or booking.service, where
who may do what is decided. Service errors rise to web/errors.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response

from fabcity.booking import finding, resources, service
from fabcity.booking.models import (
    BookingIn,
    BookingList,
    BookingPublic,
    Decision,
    ExceptionIn,
    ExceptionPublic,
    FromMachine,
    Instant,
    ResourceIn,
    ResourcePublic,
    RuleIn,
    RulePublic,
    SlotsPublic,
)
from fabcity.web.auth import acting_user, signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, if_match_versions
from fabcity.web.errors import documented

router = APIRouter(prefix="/api/v1", tags=["booking"], responses=documented(401, 403, 404))
IfMatch = Annotated[
    str | None,
    Header(description='The ETag you read, e.g. "3": the change is made only if nobody wrote since, else 412.'),
]
_ETAG = {"ETag": {"description": "The version after this write", "schema": {"type": "string", "example": '"4"'}}}
_CONDITIONAL: dict[int | str, dict[str, Any]] = {
    200: {"headers": _ETAG},
    412: {"description": "If-Match names a version that is no longer the stored one: read it again"},
}
_REFUSED: dict[int | str, dict[str, Any]] = {
    **documented(409),
    422: {"description": "A field is invalid or the period breaks a rule of the resource: `detail[].loc` names it"},
}


def _tagged(answer: dict[str, Any], response: Response) -> dict[str, Any]:
    response.headers["ETag"] = f'"{answer["version"]}"'
    return answer


@router.get("/resources", summary="The bookable resources of a node", response_model=list[ResourcePublic])
def list_resources(
    platform: PlatformDep, node: Annotated[str, Query(max_length=200, description="the node's id or slug")]
) -> list[dict[str, Any]]:
    return resources.resources_of(platform, node)


@router.post(
    "/resources",
    status_code=201,
    summary="Create a resource (the node's hosts, curators, admins)",
    response_model=ResourcePublic,
    responses={201: {"headers": _ETAG}, 422: _REFUSED[422]},
)
def create_resource(request: Request, data: ResourceIn, response: Response, platform: PlatformDep) -> dict[str, Any]:
    return _tagged(resources.create_resource(platform, acting_user(request), data), response)


@router.post(
    "/resources/from-machine",
    status_code=201,
    summary="Make a listed machine of a node bookable in one step (the node's hosts, curators, admins)",
    response_model=ResourcePublic,
    responses={201: {"headers": _ETAG}, **_REFUSED},
)
def create_resource_from_machine(
    request: Request, data: FromMachine, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    made = resources.resource_from_machine(platform, acting_user(request), data.node, data.equipment)
    return _tagged(made, response)


@router.get(
    "/resources/free",
    summary="Resources of a kind free for a whole period near a point, a station or in a gu, nearest first",
    responses={422: {"description": "A parameter cannot be used: `detail[].loc` names it"}},
)
def find_free(
    platform: PlatformDep,
    kind: Annotated[str, Query(max_length=60, description="focus_booth, desk, meeting_room, … or e.g. laser_cutter")],
    start: Annotated[Instant, Query(alias="from", description="an instant with its offset")],
    end: Annotated[Instant, Query(alias="to", description="an instant with its offset")],
    near: Annotated[str | None, Query(max_length=60, description="a point: lat,lon")] = None,
    station: Annotated[str | None, Query(max_length=60, description="a subway station, e.g. 가산디지털단지역")] = None,
    gu: Annotated[str | None, Query(max_length=60, description="a gu: 금천구, Geumcheon-gu or its code")] = None,
    radius: Annotated[int | None, Query(description="metres around the point or station (3,000 if not given)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = finding.DEFAULT_LIMIT,
) -> dict[str, Any]:
    place = finding.place_of(platform, near, station, gu, radius)
    return finding.find_free(platform, kind, place, start, end, limit)


def _only(allowed: str) -> Any:
    """A 405 naming the allowed method: without it `/resources/{resource_id}` would take the request (a 422)."""

    def refuse() -> Response:
        return Response(status_code=405, headers={"Allow": allowed})

    return refuse


# the other methods of the named paths above, which would otherwise reach `/resources/{resource_id}`
router.api_route("/resources/from-machine", methods=["GET", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False)(
    _only("POST")
)
router.api_route("/resources/free", methods=["PATCH", "DELETE", "OPTIONS"], include_in_schema=False)(_only("GET"))


@router.get(
    "/resources/{resource_id}",
    summary="One resource",
    response_model=ResourcePublic,
    responses={200: {"headers": _ETAG}},
)
def get_resource(resource_id: RowId, response: Response, platform: PlatformDep) -> dict[str, Any]:
    return _tagged(resources.get_resource(platform, resource_id), response)


@router.patch(
    "/resources/{resource_id}",
    summary="Edit a resource: a JSON merge patch (RFC 7396)",
    response_model=ResourcePublic,
    responses=_CONDITIONAL,
)
def update_resource(
    request: Request,
    resource_id: RowId,
    patch: Annotated[dict[str, Any], Body()],
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    user = acting_user(request)
    return _tagged(resources.update_resource(platform, user, resource_id, patch, if_match_versions(if_match)), response)


@router.delete(
    "/resources/{resource_id}",
    summary="Retire a resource (kept with its bookings; no new ones)",
    response_model=ResourcePublic,
    responses=_CONDITIONAL,
)
def retire_resource(
    request: Request, resource_id: RowId, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    user = acting_user(request)
    return _tagged(resources.retire_resource(platform, user, resource_id, if_match_versions(if_match)), response)


@router.get("/resources/{resource_id}/availability", summary="A resource's weekly rules and exceptions")
def get_availability(resource_id: RowId, platform: PlatformDep) -> dict[str, Any]:
    return resources.availability(platform, resource_id)


@router.post(
    "/resources/{resource_id}/rules", status_code=201, summary="Add a weekly opening", response_model=RulePublic
)
def add_rule(request: Request, resource_id: RowId, data: RuleIn, platform: PlatformDep) -> dict[str, Any]:
    return resources.add_rule(platform, acting_user(request), resource_id, data)


@router.delete("/resources/{resource_id}/rules/{rule_id}", status_code=204, summary="Remove a weekly opening")
def remove_rule(request: Request, resource_id: RowId, rule_id: RowId, platform: PlatformDep) -> Response:
    resources.remove_rule(platform, acting_user(request), resource_id, rule_id)
    return Response(status_code=204)


@router.post(
    "/resources/{resource_id}/exceptions",
    status_code=201,
    summary="Add a closure, maintenance, extra opening or external block",
    response_model=ExceptionPublic,
)
def add_exception(request: Request, resource_id: RowId, data: ExceptionIn, platform: PlatformDep) -> dict[str, Any]:
    return resources.add_exception(platform, acting_user(request), resource_id, data)


@router.delete("/resources/{resource_id}/exceptions/{exception_id}", status_code=204, summary="Remove an exception")
def remove_exception(request: Request, resource_id: RowId, exception_id: RowId, platform: PlatformDep) -> Response:
    resources.remove_exception(platform, acting_user(request), resource_id, exception_id)
    return Response(status_code=204)


@router.get(
    "/resources/{resource_id}/slots",
    summary="Free slots of a resource between two instants (at most 62 days)",
    response_model=SlotsPublic,
)
def get_free_slots(
    resource_id: RowId,
    platform: PlatformDep,
    start: Annotated[Instant, Query(alias="from", description="an instant with its offset")],
    end: Annotated[Instant, Query(alias="to", description="an instant with its offset")],
) -> dict[str, Any]:
    return service.free_slots(platform, resource_id, start, end)


@router.post(
    "/bookings",
    status_code=201,
    summary="Book a unit of a resource (signed-in members)",
    response_model=BookingPublic,
    responses={**_REFUSED, 201: {"headers": _ETAG}},
)
def create_booking(request: Request, data: BookingIn, response: Response, platform: PlatformDep) -> dict[str, Any]:
    return _tagged(service.create_booking(platform, acting_user(request), data), response)


@router.get("/bookings", summary="Your own bookings", response_model=BookingList)
def list_my_bookings(request: Request, platform: PlatformDep) -> dict[str, Any]:
    return {"results": service.my_bookings(platform, signed_in(request))}


@router.get(
    "/bookings/{booking_id}",
    summary="One booking (its member, the resource's hosts)",
    response_model=BookingPublic,
    responses={200: {"headers": _ETAG}},
)
def get_booking(request: Request, booking_id: RowId, response: Response, platform: PlatformDep) -> dict[str, Any]:
    return _tagged(service.get_booking(platform, visitor(request).user, booking_id), response)


def _move_route(action: str, path: str, summary: str) -> None:
    """POST /bookings/{id}/<path>: one move of the booking's state machine (booking.service.MOVES)."""

    def move(
        request: Request,
        booking_id: RowId,
        response: Response,
        platform: PlatformDep,
        decision: Decision | None = None,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        reason = decision.reason if decision else ""
        user = acting_user(request)
        answer = service.move_booking(platform, user, booking_id, action, reason, if_match_versions(if_match))
        return _tagged(answer, response)

    move.__name__ = f"{action}_booking"
    responses = {**_CONDITIONAL, **documented(409)}
    router.post(f"/bookings/{{booking_id}}/{path}", summary=summary, response_model=BookingPublic, responses=responses)(
        move
    )


_move_route("approve", "approve", "Approve a request (the resource's hosts)")
_move_route("decline", "decline", "Decline a request (the resource's hosts)")
_move_route("mark_paid", "mark-paid", "Mark a booking paid: it is confirmed (the resource's hosts)")
_move_route("cancel", "cancel", "Cancel a booking: by its member (refund by the policy) or a host (all back)")
_move_route("no_show", "no-show", "Mark a confirmed booking a no-show once it has begun (the resource's hosts)")
_move_route("complete", "complete", "Mark a confirmed booking completed once it has begun (the resource's hosts)")
