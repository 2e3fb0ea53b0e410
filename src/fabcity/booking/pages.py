"""Booking's pages: for now "my bookings" (KST); the week calendar and booking form of a resource and
the hosts' inbox come next (docs/decisions/0005-booking.md), on the same services as the API."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from fabcity.booking import qualifications, service
from fabcity.booking.models import PassIn, RevokeIn, TrainingIn
from fabcity.booking.vocabulary import QUALIFICATION_STATUSES, STATES
from fabcity.clock import seoul_wall_time
from fabcity.directory.editing import node_pk_of
from fabcity.directory.models import problems_of
from fabcity.directory.read import public_nodes
from fabcity.errors import Conflict, FieldError, NotFound
from fabcity.platform import Platform
from fabcity.web import i18n
from fabcity.web.auth import signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, form_of, render, say
from fabcity.web.forms import forget_notice, form_errors, notice_of, redirect_with_notice
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(request: Request, platform: PlatformDep) -> HTMLResponse:
    bookings = service.my_bookings(platform, signed_in(request))
    mine = qualifications.my_qualifications(platform, signed_in(request))
    return render(
        request,
        "booking/mine.html",
        bookings=bookings,
        states=STATES,
        qualifications=mine,
        statuses=QUALIFICATION_STATUSES,
    )


# trainings


_TRAINING_FIELDS = ("name_ko", "name_en", "valid_months", "lapse_months")
_PASS_FIELDS = ("training", "email", "passed_on", "note")
# What the qualification services and their models say, as people read it; see web/forms.py.
_MESSAGES = (
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
        name = public_nodes(conn, [node_pk_of(conn, slug)])[0]["name"]
    fields = {*_TRAINING_FIELDS, *_PASS_FIELDS}
    errors = form_errors(request, [(p.field, p.message) for p in problems], fields, _MESSAGES)
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
