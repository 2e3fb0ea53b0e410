"""Who is asking: a session cookie (web pages) or a bearer token (scripts), and CSRF for cookies.

A cookie is sent by the browser on its own, so every unsafe request authenticated by one must
also carry the session's CSRF token (a form field or the X-CSRF-Token header). A bearer token is
never sent implicitly, so it needs none.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address

from fastapi import Request, Response

from fabcity.accounts.service import SESSION_LIFETIME, User, session_user, token_user
from fabcity.errors import Forbidden, NotAuthenticated
from fabcity.platform import Platform

SESSION_COOKIE = "fabcity_session"
FORM_CSRF_COOKIE = "fabcity_form"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Visitor:
    user: User | None
    csrf: str | None = None
    via: str | None = None  # "session" | "token"


def visitor(request: Request) -> Visitor:
    """The signed-in user of this request (cached on it), or an anonymous visitor."""
    cached = getattr(request.state, "visitor", None)
    if cached is not None:
        return cached
    platform: Platform = request.app.state.platform
    found = Visitor(None)
    authorization = request.headers.get("authorization", "")
    with platform.engine.connect() as conn:
        if authorization.lower().startswith("bearer "):
            user = token_user(conn, authorization[7:].strip())
            found = Visitor(user, via="token") if user else Visitor(None)
        elif secret := request.cookies.get(SESSION_COOKIE):
            session = session_user(conn, secret)
            if session:
                found = Visitor(session[0], csrf=session[1], via="session")
    request.state.visitor = found
    return found


def acting_user(request: Request) -> User | None:
    """The signed-in user of a write, after the CSRF check; None for an anonymous one (the service decides)."""
    who = visitor(request)
    check_csrf(request, who)
    return who.user


def signed_in(request: Request) -> User:
    """The signed-in user of a read that needs one."""
    user = visitor(request).user
    if user is None:
        raise NotAuthenticated()
    return user


def check_csrf(request: Request, who: Visitor, submitted: str | None = None) -> None:
    """Refuse an unsafe cookie-authenticated request without the session's CSRF token."""
    if request.method not in _UNSAFE or who.via != "session":
        return
    given = submitted or request.headers.get(CSRF_HEADER) or ""
    if not secrets.compare_digest(given, who.csrf or ""):
        raise Forbidden("missing or wrong CSRF token")


def form_token(request: Request) -> str:
    """The CSRF token of a visitor's forms: the session's, or before sign-in a double-submit cookie's."""
    who = visitor(request)
    if who.csrf:
        return who.csrf
    return request.cookies.get(FORM_CSRF_COOKIE) or secrets.token_urlsafe(32)


def keep_form_token(request: Request, response: Response, token: str) -> None:
    """Before sign-in the form token lives in its own cookie (log-in and sign-up forms need one too)."""
    if visitor(request).via != "session" and request.cookies.get(FORM_CSRF_COOKIE) != token:
        response.set_cookie(
            FORM_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/",
            secure=request.url.scheme == "https" or not _on_this_machine(request),
        )  # fmt: skip


def check_form(request: Request, submitted: str | None) -> None:
    """A form post: the session's CSRF check, or before sign-in the double-submit check."""
    who = visitor(request)
    if who.via == "session":
        check_csrf(request, who, submitted)
        return
    expected = request.cookies.get(FORM_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(submitted or "", expected):
        raise Forbidden("missing or wrong form token; reload the page and try again")


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=request.url.scheme == "https" or not _on_this_machine(request),
        samesite="lax",
        path="/",
    )


def _on_this_machine(request: Request) -> bool:
    """Plain HTTP is accepted only for a server reached on loopback (development, tests)."""
    return (request.url.hostname or "") in ("localhost", "127.0.0.1", "::1", "testserver")


def client_address(request: Request) -> str:
    """The address the request came from, as the sign-in and sign-up limits count it.

    The peer's address, unless the peer is a trusted proxy (FABCITY_TRUSTED_PROXIES): then the
    X-Forwarded-For hops are read from the right, each written by the hop after it, up to the first
    one no trusted proxy holds. A client can put anything at the left of that header, so a hop is
    believed only when a trusted proxy wrote it; anyone else's header is ignored.
    """
    trusted = request.app.state.settings.trusted_proxies
    address = request.client.host if request.client else "unknown"
    hops = ",".join(request.headers.getlist("x-forwarded-for")).split(",")
    while hops and _one_of(address, trusted):
        nearer = _address(hops.pop())
        if nearer is None:  # not an address: the proxy's own is the best known
            break
        address = nearer
    return address


def _address(value: str) -> str | None:
    """An IP address written canonically (bounded in length: no zone), or None."""
    try:
        return str(ip_address(value.strip().split("%")[0]))
    except ValueError:
        return None


def _one_of(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:  # "unknown", or the test client's name
        return False
    return any(parsed in network for network in networks)
