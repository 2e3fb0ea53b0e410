"""The pages of accounts: sign in, sign up, sign out, password reset, the privacy notice, the account
page (places, claims, API tokens, deletion) and the council page (roles, claims to host a node)."""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.errors import Conflict, FieldError, Forbidden, NotAuthenticated, NotFound, RecordInvalid, TooManyAttempts
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.web.auth import SESSION_COOKIE, client_address, set_session_cookie, signed_in, visitor
from fabcity.web.deps import PlatformDep, RowId, SettingsDep, form_of, render, say
from fabcity.web.forms import form_errors
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)

SERVICE_MESSAGES = (
    mark("too long"),
    mark("remove the control characters"),
    mark("not an e-mail address"),
    mark("a name is needed"),
    mark("too short: use at least 10 characters"),
    mark("too easy to guess (common, a pattern, or close to your name or e-mail)"),
    mark("an account with this e-mail address exists"),
    mark("accept the privacy notice to sign up"),
    mark("wrong password"),
    mark("say how you run this place"),
    mark("give a web address starting with https://"),
)
"""What the services say about a field, in the catalog so a page can say it in its language."""
ROLE_LABELS = {
    "member": ("회원", "Member"),
    "host": ("공간 운영자", "Host"),
    "curator": ("큐레이터", "Curator"),
    "admin": ("관리자", "Admin"),
}
NOTIFICATIONS_SHOWN = 100
CLAIM_STATES = {
    "pending": ("검토 중", "Pending"),
    "approved": ("승인됨", "Approved"),
    "rejected": ("거절됨", "Declined"),
    "withdrawn": ("철회됨", "Withdrawn"),
}


def field_errors(request: Request, error: FieldError | RecordInvalid) -> list[tuple[str, str]]:
    """Every problem of a form as (field, text in the page's language)."""
    problems = error.problems if isinstance(error, RecordInvalid) else [error]
    return [(problem.field, say(request, problem.message)) for problem in problems]


def form_page(
    request: Request,
    heading: str,
    action: str,
    fields: list[dict],
    errors: list[tuple[str, str]],
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    """A form of accounts (and of claims): each field's problems under it; `context` adds intro, next, after."""
    context.setdefault("submit", heading)
    shown = form_errors(request, errors, {field["name"] for field in fields})
    return render(
        request, "form_page.html", status, heading=heading, action=action, fields=fields, errors=shown, **context
    )


def back_to(value: str | None) -> str:
    """A path on this site to return to after signing in; anything else (another site) is dropped."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) <= 500:
        return value
    return ""


# --- signing in and out -------------------------------------------------------------------


def _login_form(request: Request, errors: list[tuple[str, str]], values: dict[str, str], status: int = 200):
    fields = [
        {"name": "email", "label": say(request, "E-mail"), "kind": "email", "value": values.get("email"),
         "required": True, "autocomplete": "username"},
        {"name": "password", "label": say(request, "Password"), "kind": "password", "required": True,
         "autocomplete": "current-password"},
    ]  # fmt: skip
    after = [
        ("/reset", say(request, "Forgot your password?")),
        (_with_next("/signup", values), say(request, "Sign up")),
    ]
    heading, target = say(request, "Sign in"), back_to(values.get("next"))
    return form_page(request, heading, "/login", fields, errors, status, next=target, after=after)


def _with_next(path: str, values: dict[str, str]) -> str:
    target = back_to(values.get("next"))
    return f"{path}?next={quote(target)}" if target else path


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request, [], {"next": request.query_params.get("next", "")})


@router.post("/login")
async def login(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    shown = {"email": form.get("email", "")[: accounts.MAX_EMAIL_LENGTH], "next": form.get("next", "")}
    try:
        user = accounts.authenticate(platform, form.get("email", ""), form.get("password", ""), client_address(request))
    except FieldError as error:
        return _login_form(request, field_errors(request, error), {**shown, "email": ""}, 422)
    except TooManyAttempts as error:
        return _told_to_wait(request, error, _login_form, shown)
    if user is None:
        return _login_form(request, [("", say(request, "Wrong e-mail or password."))], shown, 401)
    return _signed_in(request, platform, user, form.get("next"))


def _told_to_wait(
    request: Request, error: TooManyAttempts, form: Callable[..., HTMLResponse], values: dict[str, str]
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
        {"name": "consent", "kind": "checkbox", "value": values.get("consent"), "required": True,
         "label": say(request, "I have read the privacy notice and agree that my name and e-mail are kept"
                               " to run my account, until I delete it."),
         "link": ("/privacy", say(request, "Read the privacy notice"))},
    ]  # fmt: skip
    after = [(_with_next("/login", values), say(request, "Already have an account? Sign in"))]
    return form_page(
        request, say(request, "Sign up"), "/signup", fields, errors, status, next=back_to(values.get("next")),
        after=after,
    )  # fmt: skip


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request) -> HTMLResponse:
    return _signup_form(request, [], {"next": request.query_params.get("next", "")})


@router.post("/signup")
async def signup(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        user = accounts.sign_up(
            platform, form.get("email", ""), form.get("password", ""), form.get("display_name", ""),
            client_address(request), consented=form.get("consent") == "yes",
        )  # fmt: skip
    except (FieldError, RecordInvalid) as error:
        return _signup_form(request, field_errors(request, error), _shown_back(form), 422)
    except TooManyAttempts as error:
        return _told_to_wait(request, error, _signup_form, _shown_back(form))
    return _signed_in(request, platform, user, form.get("next"))


def _shown_back(form: dict[str, str]) -> dict[str, str]:
    """The name, e-mail and choices to fill the form in again, if they could have been kept (never a large input)."""
    kept = ("display_name", "email", "consent", "next")
    return {name: form.get(name, "") for name in kept if len(form.get(name, "")) <= accounts.MAX_EMAIL_LENGTH}


def _signed_in(request: Request, platform: Platform, user: accounts.User, next_path: str | None) -> Response:
    """A new session for the person, and back where they came from (home by default)."""
    secret, _csrf = accounts.start_session(platform, user)
    response = RedirectResponse(back_to(next_path) or "/", status_code=303)
    set_session_cookie(request, response, secret)
    return response


# --- password reset -----------------------------------------------------------------------


def _reset_form(request: Request, errors: list[tuple[str, str]], values: dict[str, str], status: int = 200):
    fields = [{"name": "email", "label": say(request, "E-mail"), "kind": "email", "value": values.get("email"),
               "required": True, "autocomplete": "username"}]  # fmt: skip
    intro = say(request, "We will send a link to set a new password to this address, if it has an account.")
    return form_page(request, say(request, "Forgot your password?"), "/reset", fields, errors, status, intro=intro,
                     submit=say(request, "Send the link"))  # fmt: skip


@router.get("/reset", response_class=HTMLResponse)
def reset_page(request: Request) -> HTMLResponse:
    return _reset_form(request, [], {})


@router.post("/reset")
async def reset_request(
    request: Request, platform: PlatformDep, settings: SettingsDep, background: BackgroundTasks
) -> Response:
    form = await form_of(request)
    shown = {"email": form.get("email", "")[: accounts.MAX_EMAIL_LENGTH]}
    try:
        accounts.request_reset(platform, form.get("email", ""), client_address(request), settings.public_url)
    except FieldError as error:
        return _reset_form(request, field_errors(request, error), {}, 422)
    except TooManyAttempts as error:
        return _told_to_wait(request, error, _reset_form, shown)
    background.add_task(outbox.deliver, platform, settings.smtp)
    sent = say(
        request,
        "If this address has an account, a link to set a new password is on its way. It works once, within an hour.",
    )  # noqa: E501
    return render(request, "accounts/done.html", heading=say(request, "Forgot your password?"), text=sent)


def _new_password_form(request: Request, token: str, errors: list[tuple[str, str]], status: int = 200):
    hint = say(request, "At least 10 characters and hard to guess: a few uncommon words are best.")
    fields = [{"name": "password", "label": say(request, "New password"), "kind": "password", "required": True,
               "autocomplete": "new-password", "help": hint}]  # fmt: skip
    after = [("/reset", say(request, "Ask for a new link"))]
    return form_page(
        request, say(request, "Set a new password"), f"/reset/{token}", fields, errors, status, after=after
    )


@router.get("/reset/{token}", response_class=HTMLResponse)
def new_password_page(request: Request, token: str) -> HTMLResponse:
    return _new_password_form(request, token, [])


@router.post("/reset/{token}")
async def new_password(request: Request, token: str, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        user = accounts.reset_password(platform, token, form.get("password", ""))
    except (FieldError, RecordInvalid) as error:
        return _new_password_form(request, token, field_errors(request, error), 422)
    except (Conflict, NotFound) as error:
        spent = [("", say(request, "This link was used or has expired; ask for a new one."))]
        return _new_password_form(request, token, spent, error.status)
    return _signed_in(request, platform, user, "/account")


# --- the privacy notice ------------------------------------------------------------------


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return render(request, "accounts/privacy.html", contact=settings.privacy_contact)


# --- account and council -----------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, platform: PlatformDep) -> HTMLResponse:
    return _account(request, platform, token=None)


@router.post("/account/tokens", response_class=HTMLResponse)
async def new_token(request: Request, platform: PlatformDep) -> HTMLResponse:
    form = await form_of(request)
    token = accounts.create_token(platform, signed_in(request), form.get("name", ""))
    return _account(request, platform, token=token)


# notifications


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, platform: PlatformDep) -> HTMLResponse:
    """The messages to the signed-in person's address, newest first: readable without a mail server."""
    user = signed_in(request)
    with platform.engine.connect() as conn:
        messages = outbox.messages(conn, user.email, limit=NOTIFICATIONS_SHOWN)
    return render(request, "accounts/notifications.html", messages=messages)


def _account(request: Request, platform: Platform, token: str | None) -> HTMLResponse:
    """The account page: who they are, the places they host, their claims and their API tokens."""
    user = signed_in(request)
    with platform.engine.connect() as conn:
        places, claims = editing.hosted_by(conn, user), editing.claims_of(conn, user)
    return render(
        request, "accounts/account.html", token=token, places=places, claims=claims, roles=ROLE_LABELS,
        claim_states=CLAIM_STATES,
    )  # fmt: skip


def _delete_form(request: Request, errors: list[tuple[str, str]], status: int = 200) -> HTMLResponse:
    fields = [{"name": "password", "label": say(request, "Password"), "kind": "password", "required": True,
               "autocomplete": "current-password"}]  # fmt: skip
    intro = say(
        request,
        "Your name and e-mail are removed, your sessions and API tokens end, and what you added to the map stays,"
        " shown as made by a deleted account. This cannot be undone.",
    )
    heading = say(request, "Delete my account")
    return form_page(request, heading, "/account/delete", fields, errors, status, intro=intro)


@router.get("/account/delete", response_class=HTMLResponse)
def delete_page(request: Request) -> HTMLResponse:
    signed_in(request)
    return _delete_form(request, [])


@router.post("/account/delete")
async def delete_account(request: Request, platform: PlatformDep) -> Response:
    form = await form_of(request)
    try:
        accounts.delete_account(platform, visitor(request).user, form.get("password", ""))
    except FieldError as error:
        return _delete_form(request, field_errors(request, error), 422)
    response = RedirectResponse("/?deleted=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, platform: PlatformDep) -> HTMLResponse:
    return _council(request, platform)


def _council(request: Request, platform: Platform, message: str | None = None, status: int = 200) -> HTMLResponse:
    user = visitor(request).user
    if not editing.may_verify(user):
        raise NotAuthenticated() if user is None else Forbidden()
    with platform.engine.connect() as conn:
        users = accounts.list_users(conn) if user.role == "admin" else []
        claims = editing.pending_claims(conn)
    return render(
        request, "accounts/admin.html", status, users=users, claims=claims, roles=ROLE_LABELS, message=message
    )


@router.post("/admin/users/{user_id}/role")
async def admin_role(request: Request, user_id: int, platform: PlatformDep) -> Response:
    form = await form_of(request)
    accounts.set_role(platform, visitor(request).user, user_id, form.get("role", ""))
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/claims/{claim_id}/{decision}")
async def admin_claim(
    request: Request, claim_id: RowId, decision: str, platform: PlatformDep, settings: SettingsDep,
    background: BackgroundTasks,
) -> Response:  # fmt: skip
    await form_of(request)
    if decision not in ("approve", "reject"):
        raise NotFound(f"no decision {decision!r}")
    try:
        editing.decide_claim(platform, visitor(request).user, claim_id, approve=decision == "approve")
    except Conflict:  # a second press, or another curator first: nothing changed
        return _council(request, platform, say(request, "This claim was already decided; nothing was changed."), 409)
    background.add_task(outbox.deliver, platform, settings.smtp)
    return RedirectResponse("/admin", status_code=303)
