"""Errors as HTTP answers: JSON for the API, a page for a person, and what the API document says of them.

One handler for the whole family of service errors, so every capability's routes simply let one
rise; the framework's own (an unknown path, a wrong method, a body too large or unreadable, a
parameter FastAPI refuses) are answered alike. A field error names its field under
`detail[].loc` as FastAPI's own 422s do; other errors say what happened in `detail`. No answer
echoes more than a few hundred characters of what the client sent. An error nobody foresaw is a
500 from `ServerErrors`, inside the security headers, and the connection stays usable.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fabcity.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RecordInvalid,
    ServiceError,
    TooManyAttempts,
)
from fabcity.web import i18n
from fabcity.web.deps import render, say
from fabcity.web.i18n import mark

_PAGE_HEADINGS = {
    Forbidden.status: mark("Not allowed"),
    NotFound.status: mark("Not found"),
    413: mark("The request is too large"),
    TooManyAttempts.status: mark("Too many attempts"),
    500: mark("Something went wrong on our side"),
}
_API_DEFAULTS = {
    NotAuthenticated.status: "sign in first (session cookie or bearer token)",
    Forbidden.status: "your role does not allow this",
}
_SERVER_ERROR = "the server could not answer this request; it has been logged"
_ECHO_MAX = 300  # characters of a message, or of an input value, an answer carries back
_logger = logging.getLogger("uvicorn.error")  # where uvicorn logs what a request raised

# The `responses` of the API document, in the shapes the answers below have.
_PROBLEM = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_DESCRIPTIONS = {
    400: "The body is not readable JSON",
    NotAuthenticated.status: "Sign in first: a session cookie, or a bearer token",
    Forbidden.status: "Your role does not allow this",
    NotFound.status: "No such thing: `detail` says which",
    Conflict.status: "It clashes with what is stored: `detail` says how",
    413: "The body is larger than the server accepts (FABCITY_MAX_BODY_BYTES)",
    TooManyAttempts.status: "Too many tries lately: Retry-After says when to try again",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of errors a route can answer besides 422 (which FastAPI documents itself)."""
    return {status: {"description": _DESCRIPTIONS[status], "content": _content(status)} for status in statuses}


def _content(status: int) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _PROBLEM}}
    if status == 413:  # Starlette's limit says it in plain text when the Content-Length is too large
        content["text/plain"] = {"schema": {"type": "string"}}
    return content


def _brief(text: str) -> str:
    return text if len(text) <= _ECHO_MAX else text[:_ECHO_MAX] + "…"


def _field(error: FieldError) -> dict[str, object]:
    loc = [error.location, *error.field.split(".")]
    return {"loc": loc, "msg": _brief(error.message), "type": "value_error"}


def api_answer(error: ServiceError) -> JSONResponse:
    """The API's JSON for a service error."""
    if isinstance(error, FieldError):
        return JSONResponse(status_code=error.status, content={"detail": [_field(error)]})
    if isinstance(error, RecordInvalid):
        return JSONResponse(status_code=error.status, content={"detail": [_field(p) for p in error.problems]})
    headers = None
    detail = _brief(str(error).strip("'\"")) or _API_DEFAULTS.get(error.status, "")
    if isinstance(error, TooManyAttempts):
        minutes = max(1, math.ceil(error.retry_after_s / 60))  # a sign-in or a sign-up; never "0 minutes"
        detail = f"too many tries lately; try again in {minutes} minute{'s' if minutes > 1 else ''}"
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
    return render(request, "error.html", error.status, heading=say(request, heading), detail=_brief(detail))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _service_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceError)
    return api_answer(error) if _is_api(request) else page_answer(request, error)


async def _http_error(request: Request, error: Exception) -> Response:
    """The framework's own refusals: an unknown path (404), a wrong method (405), a body too large (413)…"""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    if _is_api(request) or error.status_code == 405:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)
    heading = say(request, _PAGE_HEADINGS.get(error.status_code, mark("Please check the input")))
    return render(request, "error.html", error.status_code, heading=heading, detail="")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: Starlette's 405 names only the first route's."""
    path = request.url.path
    methods: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        route_methods = getattr(route, "methods", None)
        if route_methods and route.path_regex.match(path):
            methods |= route_methods
    return sorted(methods)


def _leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes themselves, through the routers FastAPI includes whole (see web/app.py)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _leaf_routes(included.routes)
        else:
            yield route


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 in its documented shape, without echoing a large input (a 200 MB text came back whole)."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": [_without_large_input(e) for e in error.errors()]})


def _without_large_input(problem: dict[str, Any]) -> dict[str, Any]:
    """One of FastAPI's errors with its input and context kept only when they are short."""
    kept = {key: value for key, value in problem.items() if key not in ("input", "ctx")}
    kept["msg"] = _brief(str(problem.get("msg", "")))
    for key in ("input", "ctx"):
        if key in problem:
            value = jsonable_encoder(problem[key])
            if len(json.dumps(value, ensure_ascii=False)) <= _ECHO_MAX:
                kept[key] = value
    return jsonable_encoder(kept)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)


class ServerErrors:
    """An exception no handler took is answered 500 here, and not raised further.

    Starlette's own ServerErrorMiddleware answers outside every middleware (so without the
    Content-Security-Policy and nosniff headers) and then raises again, and uvicorn closes the
    connection on an exception: the client's next request on it was reset. Added inside the
    security headers (web/app.py), this answers in the API's JSON or as a page, logs the
    traceback where uvicorn would, and leaves the connection open.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception:
            if started:  # half an answer is out: only closing the connection can tell the client
                raise
            _logger.exception("a request to %s %s failed", scope.get("method"), scope.get("path"))
            await _server_error_answer(Request(scope))(scope, receive, send)


def _server_error_answer(request: Request) -> Response:
    """A 500 that needs nothing that may have failed: no database (the page is shown as to a visitor)."""
    if _is_api(request):
        return JSONResponse({"detail": _SERVER_ERROR}, status_code=500)
    lang = i18n.language_of(request)
    heading = i18n.translations(lang).gettext(_PAGE_HEADINGS[500])
    context = {"lang": lang, "user": None, "csrf": "", "heading": heading, "detail": ""}
    return request.app.state.templates.TemplateResponse(request, "error.html", context, status_code=500)
