"""Booking's JSON endpoints: resources and their availability, free slots, bookings and their moves.

Thin: each endpoint reads its parameters and calls booking.resources or booking.service, where
who may do what is decided. Service errors rise to web/errors.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from fabcity.booking import calendars, finding, qualifications, resources, service
from fabcity.booking.calendars import FeedCreated, FeedIn, FeedPublic, ImportFrom, ImportResult, ImportState
from fabcity.booking.models import (
    BookingIn,
    BookingList,
    BookingPublic,
    Decision,
    ExceptionIn,
    ExceptionPublic,
    FromMachine,
    HolderPublic,
    Instant,
    PaidDecision,
    PassIn,
    QualificationList,
    ResourceIn,
    ResourcePublic,
    RevokeIn,
    RuleIn,
    RulePublic,
    SlotsPublic,
    TrainingIn,
    TrainingPublic,
)
from fabcity.directory.models import problems_of
from fabcity.errors import FieldError, RecordInvalid
from fabcity.notify import outbox
from fabcity.web.auth import acting_user, signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, SettingsDep, if_match_versions
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
def create_booking(
    request: Request,
    data: BookingIn,
    response: Response,
    platform: PlatformDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> dict[str, Any]:
    answer = service.create_booking(platform, acting_user(request), data)
    background.add_task(outbox.deliver, platform, settings.smtp)  # the notices the booking queued
    return _tagged(answer, response)


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
        settings: SettingsDep,
        background: BackgroundTasks,
        decision: Decision | None = None,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        reason = decision.reason if decision else ""
        user = acting_user(request)
        answer = service.move_booking(platform, user, booking_id, action, reason, if_match_versions(if_match))
        background.add_task(outbox.deliver, platform, settings.smtp)  # the notice of the move
        return _tagged(answer, response)

    move.__name__ = f"{action}_booking"
    responses = {**_CONDITIONAL, **documented(409)}
    router.post(f"/bookings/{{booking_id}}/{path}", summary=summary, response_model=BookingPublic, responses=responses)(
        move
    )


_move_route("approve", "approve", "Approve a request (the resource's hosts)")
_move_route("decline", "decline", "Decline a request (the resource's hosts)")


@router.post(
    "/bookings/{booking_id}/mark-paid",
    summary="Mark a booking paid, saying how (on site, by transfer, a provider's id): it is confirmed (the hosts)",
    response_model=BookingPublic,
    responses={**_CONDITIONAL, **documented(409)},
)
def mark_paid_booking(
    request: Request,
    booking_id: RowId,
    response: Response,
    platform: PlatformDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    decision: PaidDecision | None = None,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    decision = decision or PaidDecision()
    versions = if_match_versions(if_match)
    answer = service.move_booking(
        platform, acting_user(request), booking_id, "mark_paid", decision.reason, versions, payment=decision.payment
    )
    background.add_task(outbox.deliver, platform, settings.smtp)  # the member's notice
    return _tagged(answer, response)


_move_route("cancel", "cancel", "Cancel a booking: by its member (refund by the policy) or a host (all back)")
_move_route("no_show", "no-show", "Mark a confirmed booking a no-show once it has begun (the resource's hosts)")
_move_route("complete", "complete", "Mark a confirmed booking completed once it has begun (the resource's hosts)")


# --------------------------------------------------------------------------------------------
# calendars


@router.post(
    "/calendar-feeds",
    status_code=201,
    summary="A secret iCalendar feed address: a resource's bookings (its hosts) or, with no resource, your own",
    response_model=FeedCreated,
)
def create_calendar_feed(
    request: Request, data: FeedIn, platform: PlatformDep, settings: SettingsDep
) -> dict[str, Any]:
    feed, secret = calendars.create_feed(platform, acting_user(request), data.resource)
    return {**feed, "url": settings.public_url + calendars.feed_path(secret)}


@router.get("/calendar-feeds", summary="Your calendar feeds (their addresses are shown only when made)",
            response_model=list[FeedPublic])  # fmt: skip
def list_calendar_feeds(request: Request, platform: PlatformDep) -> list[dict[str, Any]]:
    return calendars.feeds_of(platform, signed_in(request))


@router.delete(
    "/calendar-feeds/{feed_id}",
    summary="Revoke one of your calendar feeds: its address answers 404 from now on",
    response_model=FeedPublic,
    responses=documented(409),
)
def revoke_calendar_feed(request: Request, feed_id: RowId, platform: PlatformDep) -> dict[str, Any]:
    return calendars.revoke_feed(platform, acting_user(request), feed_id)


@router.get(
    "/resources/{resource_id}/calendar-import",
    summary="A resource's calendar import address and last import (its hosts)",
    response_model=ImportState,
)
def get_calendar_import(request: Request, resource_id: RowId, platform: PlatformDep) -> dict[str, Any]:
    return calendars.import_state(platform, visitor(request).user, resource_id)


@router.post(
    "/resources/{resource_id}/calendar-import",
    summary="Block time from an external calendar: a text/calendar body, or JSON {url} (its hosts)",
    description="The earlier blocks of the same source (upload or url) are replaced in one transaction;"
    " the host's own exceptions and the bookings already made stay. JSON `{}` fetches the stored address again.",
    response_model=ImportResult,
    responses={422: _REFUSED[422]},
    openapi_extra={
        "requestBody": {
            "content": {
                "text/calendar": {"schema": {"type": "string"}},
                "application/json": {"schema": ImportFrom.model_json_schema()},
            }
        }
    },
)
async def import_calendar(request: Request, resource_id: RowId, platform: PlatformDep) -> dict[str, Any]:
    user = acting_user(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    data, url = None, None
    if kind == "text/calendar":
        data = body
    elif kind == "application/json" or not body:
        try:
            url = ImportFrom.model_validate_json(body or b"{}").url
        except ValidationError as error:
            raise RecordInvalid(problems_of(error)) from None
    else:
        raise FieldError("body", 'send the calendar as text/calendar, or JSON {"url": …}')
    return await run_in_threadpool(calendars.import_calendar, platform, user, resource_id, data, url)


# trainings and qualifications (booking.qualifications)

NodeRef = Annotated[str, Path(max_length=200, description="the node's id or slug")]


@router.get(
    "/nodes/{node_id}/trainings",
    summary="A node's trainings; with every recorded pass for its hosts, curators and admins",
    response_model=list[TrainingPublic],
)
def list_trainings(
    request: Request,
    node_id: NodeRef,
    platform: PlatformDep,
) -> list[dict]:
    return qualifications.trainings_of(platform, visitor(request).user, node_id)


@router.post(
    "/nodes/{node_id}/trainings",
    status_code=201,
    summary="Define a training of a node (its hosts, curators, admins)",
    response_model=TrainingPublic,
    responses={422: _REFUSED[422]},
)
def create_training(
    request: Request,
    node_id: NodeRef,
    data: TrainingIn,
    platform: PlatformDep,
) -> dict[str, Any]:
    return qualifications.create_training(platform, acting_user(request), node_id, data)


@router.patch(
    "/trainings/{training_id}",
    summary="Rename a training or change its validity: a JSON merge patch (RFC 7396)",
    response_model=TrainingPublic,
    responses={**documented(409), 422: _REFUSED[422]},
)
def update_training(
    request: Request, training_id: RowId, patch: Annotated[dict[str, Any], Body()], platform: PlatformDep
) -> dict[str, Any]:
    return qualifications.update_training(platform, acting_user(request), training_id, patch)


@router.delete(
    "/trainings/{training_id}",
    summary="Retire a training: no longer required nor recorded; its passes stay",
    response_model=TrainingPublic,
    responses=documented(409),
)
def retire_training(request: Request, training_id: RowId, platform: PlatformDep) -> dict[str, Any]:
    return qualifications.retire_training(platform, acting_user(request), training_id)


@router.post(
    "/trainings/{training_id}/holders",
    status_code=201,
    summary="Record that a member (by e-mail) passed a training on a day",
    response_model=HolderPublic,
    responses={**documented(409), 422: _REFUSED[422]},
)
def record_pass(request: Request, training_id: RowId, data: PassIn, platform: PlatformDep) -> dict[str, Any]:
    return qualifications.record_pass(platform, acting_user(request), training_id, data)


@router.post(
    "/qualifications/{qualification_id}/revoke",
    summary="Revoke a recorded pass (kept in the history); a second revocation is a 409",
    response_model=HolderPublic,
    responses={**documented(409), 422: _REFUSED[422]},
)
def revoke_qualification(
    request: Request, qualification_id: RowId, data: RevokeIn, platform: PlatformDep
) -> dict[str, Any]:
    return qualifications.revoke(platform, acting_user(request), qualification_id, data.reason)


@router.get(
    "/qualifications",
    summary="Your own qualifications, history included, each valid, expired, lapsed or revoked",
    response_model=QualificationList,
)
def list_my_qualifications(request: Request, platform: PlatformDep) -> dict[str, Any]:
    return {"results": qualifications.my_qualifications(platform, signed_in(request))}
