"""The pages of accounts: sign in, sign up, sign out, the account page (API tokens) and the
council page (roles, claims to host a node)."""

from __future__ import annotations

import math
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.errors import FieldError, Forbidden, NotAuthenticated, TooManyAttempts
from fabcity.platform import Platform
from fabcity.web.auth import SESSION_COOKIE, client_address, set_session_cookie, signed_in, visitor
from fabcity.web.deps import PlatformDep, form_of, render, say
from fabcity.web.forms import form_errors
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)


# --- signing in and out -------------------------------------------------------------------


def _login_form(request: Request, errors: list[tuple[str, str]], email: str = "", status: int = 200) -> HTMLResponse:
    fields = [
        {"name": "email", "label": say(request, "E-mail"), "kind": "email", "value": email, "required": True,
         "autocomplete": "username"},
        {"name": "password", "label": say(request, "Password"), "kind": "password", "required": True,
         "autocomplete": "current-password"},
    ]  # fmt: skip
    return _account_form(request, say(request, "Sign in"), "/login", fields, errors, status)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request, [])


@router.post("/login")
async def login(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    email = form.get("email", "")
    try:
        user = accounts.authenticate(platform, email, form.get("password", ""), client_address(request))
    except FieldError as error:
        return _login_form(request, [(error.field, error.message)], "", 422)
    except TooManyAttempts as error:
        return _told_to_wait(request, error, _login_form, email)
    if user is None:
        return _login_form(request, [("", say(request, "Wrong e-mail or password."))], email, 401)
    return _signed_in(request, platform, user)


def _told_to_wait(
    request: Request, error: TooManyAttempts, form: Callable[..., HTMLResponse], values: str | dict[str, str]
) -> HTMLResponse:
    """The form again with how long to wait, in whole minutes, and the exact seconds in Retry-After."""
    minutes = max(1, math.ceil(error.retry_after_s / 60))
    wait = say(request, "Too many attempts; try again in %(minutes)s minutes.") % {"minutes": minutes}
    response = form(request, [("", wait)], values, 429)
    response.headers["Retry-After"] = str(error.retry_after_s)
    return response


@router.post("/logout")
async def logout(request: Request, platform: PlatformDep) -> Response:
    await form_of(request)
    if secret := request.cookies.get(SESSION_COOKIE):
        accounts.end_session(platform, secret)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _signup_form(
    request: Request, errors: list[tuple[str, str]], values: dict[str, str], status: int = 200
) -> HTMLResponse:
    fields = [
        {"name": "display_name", "label": say(request, "Name"), "value": values.get("display_name"),
         "required": True},
        {"name": "email", "label": say(request, "E-mail"), "kind": "email", "value": values.get("email"),
         "required": True, "autocomplete": "username"},
        {"name": "password", "label": say(request, "Password"), "kind": "password", "required": True,
         "autocomplete": "new-password",
         "help": say(request, "At least 10 characters and hard to guess: a few uncommon words are best.")},
    ]  # fmt: skip
    return _account_form(request, say(request, "Sign up"), "/signup", fields, errors, status)


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request) -> HTMLResponse:
    return _signup_form(request, [], {})


@router.post("/signup")
async def signup(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        user = accounts.sign_up(
            platform, form.get("email", ""), form.get("password", ""), form.get("display_name", ""),
            client_address(request),
        )  # fmt: skip
    except FieldError as error:
        return _signup_form(request, [(error.field, error.message)], _shown_back(form), 422)
    except TooManyAttempts as error:
        return _told_to_wait(request, error, _signup_form, _shown_back(form))
    return _signed_in(request, platform, user)


def _shown_back(form: dict[str, str]) -> dict[str, str]:
    """The name and e-mail to fill the form in again, if they could have been kept (never a large input)."""
    limit = accounts.MAX_EMAIL_LENGTH
    return {name: form[name] for name in ("display_name", "email") if len(form.get(name, "")) <= limit}


# The account service's messages as people read them (see web/forms.py).
_MESSAGES = (
    (r"use at most (?P<limit>\d+) characters", mark("Write at most %(limit)s characters.")),
    (r"use at least (?P<limit>\d+) characters", mark("Use at least %(limit)s characters.")),
    (r"remove the control characters", mark("Holds a control character, which cannot be stored; remove it.")),
    (r"too easy to guess.*", mark("Too easy to guess: a few uncommon words are better.")),
    (r"a name is needed", mark("A name is needed.")),
    (r"an account with this e-mail address exists", mark("An account with this e-mail address exists.")),
)


def _account_form(
    request: Request, title: str, action: str, fields: list[dict], errors: list[tuple[str, str]], status: int
) -> HTMLResponse:
    """The sign-in and sign-up forms: one page, the title also on the button; errors under their fields."""
    shown = form_errors(request, errors, {field["name"] for field in fields}, _MESSAGES)
    return render(
        request, "form_page.html", status, heading=title, action=action, fields=fields, submit=title, errors=shown
    )


def _signed_in(request: Request, platform: Platform, user: accounts.User) -> Response:
    """A new session for the person, and home."""
    secret, _csrf = accounts.start_session(platform, user)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, secret)
    return response


# --- account and council -----------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> HTMLResponse:
    signed_in(request)
    return render(request, "accounts/account.html", token=None)


@router.post("/account/tokens", response_class=HTMLResponse)
async def new_token(request: Request, platform: PlatformDep) -> HTMLResponse:
    form = await form_of(request)
    token = accounts.create_token(platform, signed_in(request), form.get("name", ""))
    return render(request, "accounts/account.html", token=token)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, platform: PlatformDep) -> HTMLResponse:
    user = visitor(request).user
    if not editing.may_verify(user):
        raise NotAuthenticated() if user is None else Forbidden()
    with platform.engine.connect() as conn:
        users = accounts.list_users(conn) if user.role == "admin" else []
        claims = editing.pending_claims(conn)
    return render(request, "accounts/admin.html", users=users, claims=claims, roles=accounts.ROLES)


@router.post("/admin/users/{user_id}/role")
async def admin_role(request: Request, user_id: int, platform: PlatformDep) -> Response:
    form = await form_of(request)
    accounts.set_role(platform, visitor(request).user, user_id, form.get("role", ""))
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/claims/{claim_id}/{decision}")
async def admin_claim(request: Request, claim_id: int, decision: str, platform: PlatformDep) -> Response:
    await form_of(request)
    editing.decide_claim(platform, visitor(request).user, claim_id, approve=decision == "approve")
    return RedirectResponse("/admin", status_code=303)
