"""Service errors (fabcity.errors) as HTTP answers: JSON for the API, a page for a person.

One handler for the whole family, so every capability's routes simply let a service error rise.
A field error names its field under `detail[].loc` as FastAPI's own 422s do.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from fabcity.errors import (
    FieldError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RecordInvalid,
    ServiceError,
    TooManyAttempts,
)
from fabcity.web.deps import render, say
from fabcity.web.i18n import mark

_PAGE_HEADINGS = {
    Forbidden.status: mark("Not allowed"),
    NotFound.status: mark("Not found"),
    TooManyAttempts.status: mark("Too many attempts"),
}
_API_DEFAULTS = {
    NotAuthenticated.status: "sign in first (session cookie or bearer token)",
    Forbidden.status: "your role does not allow this",
}


def _field(error: FieldError) -> dict[str, object]:
    return {"loc": [error.location, *error.field.split(".")], "msg": error.message, "type": "value_error"}


def api_answer(error: ServiceError) -> JSONResponse:
    """The API's JSON for a service error."""
    if isinstance(error, FieldError):
        return JSONResponse(status_code=error.status, content={"detail": [_field(error)]})
    if isinstance(error, RecordInvalid):
        return JSONResponse(status_code=error.status, content={"detail": [_field(p) for p in error.problems]})
    headers = None
    detail = str(error).strip("'\"") or _API_DEFAULTS.get(error.status, "")
    if isinstance(error, TooManyAttempts):
        detail = f"too many failed log-ins; try again in {error.retry_after_s // 60} minutes"
        headers = {"Retry-After": str(error.retry_after_s)}
    if isinstance(error, NotAuthenticated):
        detail = _API_DEFAULTS[error.status]
    return JSONResponse(status_code=error.status, content={"detail": detail}, headers=headers)


def page_answer(request: Request, error: ServiceError) -> Response:
    """A person is sent to sign in, or shown what went wrong in their language."""
    if isinstance(error, NotAuthenticated):
        return RedirectResponse("/login", status_code=303)
    heading = _PAGE_HEADINGS.get(error.status, mark("Please check the input"))
    detail = getattr(error, "message", None) or str(error).strip("'\"")
    return render(request, "error.html", error.status, heading=say(request, heading), detail=detail)


async def _answer(request: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceError)
    return api_answer(error) if request.url.path.startswith("/api/") else page_answer(request, error)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _answer)
