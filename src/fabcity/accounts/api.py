"""Accounts as JSON: sign up, sign in and out, API tokens, and roles (admin).

Authorization lives in accounts.service; a cookie session's writes carry the CSRF token
(web/auth.py), a bearer token's need none.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from fabcity.accounts import service as accounts
from fabcity.errors import Forbidden, NotAuthenticated
from fabcity.text import TEXT_PATTERN
from fabcity.web.auth import SESSION_COOKIE, acting_user, client_address, set_session_cookie, signed_in
from fabcity.web.deps import PlatformDep, RowId
from fabcity.web.errors import documented

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=documented(401, 403, 404, 409, 429))


def _documented(max_length: int) -> Any:
    """What accounts.service checks, said in the schema (the service stays the one that checks, naming the field)."""
    return Field(json_schema_extra={"maxLength": max_length, "pattern": TEXT_PATTERN})


class Credentials(BaseModel):
    email: str = _documented(accounts.MAX_EMAIL_LENGTH)
    password: str = Field(json_schema_extra={"maxLength": accounts.MAX_PASSWORD_LENGTH})


class SignUp(Credentials):
    display_name: str = _documented(accounts.MAX_NAME_LENGTH)
    consent: bool = Field(False, description="true: the person accepts the privacy notice (/privacy); needed")


class RoleChange(BaseModel):
    role: str = Field(json_schema_extra={"enum": list(accounts.ROLES)})


class TokenRequest(BaseModel):
    name: str = _documented(accounts.MAX_NAME_LENGTH)


@router.post("/users", status_code=201, summary="Sign up (a member account)")
def sign_up(request: Request, body: SignUp, platform: PlatformDep) -> dict[str, Any]:
    user = accounts.sign_up(
        platform, body.email, body.password, body.display_name, client_address(request), consented=body.consent
    )
    return user.public()


@router.get("/users", summary="All accounts (admin)")
def list_users(request: Request, platform: PlatformDep) -> dict[str, Any]:
    if signed_in(request).role != "admin":
        raise Forbidden()
    with platform.engine.connect() as conn:
        return {"results": [u.public() for u in accounts.list_users(conn)]}


@router.put("/users/{user_id}/role", summary="Change a role (admin)")
def change_role(request: Request, user_id: RowId, body: RoleChange, platform: PlatformDep) -> dict[str, Any]:
    return accounts.set_role(platform, acting_user(request), user_id, body.role).public()


@router.get("/me", summary="The signed-in account")
def me(request: Request) -> dict[str, Any]:
    return signed_in(request).public()


@router.post("/session", summary="Log in: sets the session cookie, returns the CSRF token")
def log_in(request: Request, body: Credentials, response: Response, platform: PlatformDep) -> dict[str, Any]:
    user = accounts.authenticate(platform, body.email, body.password, client_address(request))
    if user is None:
        raise NotAuthenticated()
    secret, csrf = accounts.start_session(platform, user)
    set_session_cookie(request, response, secret)
    return {"user": user.public(), "csrf_token": csrf}


@router.delete("/session", summary="Log out")
def log_out(request: Request, response: Response, platform: PlatformDep) -> dict[str, str]:
    acting_user(request)
    if secret := request.cookies.get(SESSION_COOKIE):
        accounts.end_session(platform, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "signed out"}


@router.post("/tokens", status_code=201, summary="A new API token with your permissions")
def create_token(request: Request, body: TokenRequest, platform: PlatformDep) -> dict[str, str]:
    user = acting_user(request)
    if user is None:
        raise NotAuthenticated()
    return {"token": accounts.create_token(platform, user, body.name), "name": body.name}
