"""The errors a service raises, one family for every capability.

Each kind knows its HTTP status, so a service says what went wrong in its own terms and the web
layer (web/errors.py) answers JSON for the API or a page for a person from the same exception,
in one place. The CLI shows the same messages. Nothing here knows about HTTP frameworks.
"""

from __future__ import annotations

from typing import ClassVar, Literal


class ServiceError(Exception):
    """An error a person or a client can act on; `status` is the HTTP status it answers with."""

    status: ClassVar[int] = 400


class FieldError(ServiceError, ValueError):
    """One thing wrong with one field: of a record, a form, a request body or an imported row.

    `field` may be a dotted path into a record (`location.lat`).
    """

    status = 422
    location: ClassVar[Literal["body", "query"]] = "body"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ParameterError(FieldError):
    """A query parameter that cannot be used (a search filter, a census period, a month)."""

    location = "query"


class RecordInvalid(ServiceError):
    """A record with one or more field errors; all of them are reported at once."""

    status = 422

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class NotAuthenticated(ServiceError):
    """The action needs a signed-in user."""

    status = 401


class Forbidden(ServiceError):
    """The signed-in user may not do this."""

    status = 403


class NotFound(ServiceError, LookupError):
    """The thing named does not exist."""

    status = 404


class Conflict(ServiceError):
    """The request clashes with the stored state (a taken slot, a stale version, a duplicate)."""

    status = 409


class PreconditionFailed(Conflict):
    """The client's copy is stale: the version it named (HTTP If-Match) is no longer the stored one."""

    status = 412


class TooManyAttempts(ServiceError):
    """Too many tries lately (failed log-ins); `retry_after_s` says when to try again."""

    status = 429

    def __init__(self, message: str = "", retry_after_s: int = 900) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
