"""HTTP API (v1) for writes and accounts. Thin: each endpoint finds the visitor and calls a service.

Authorization lives in the services (directory.editing, accounts.service); this layer only
checks CSRF for cookie sessions and turns service errors into HTTP answers (see errors()).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fabcity import audit
from fabcity.accounts import service as accounts
from fabcity.accounts.service import AccountError, Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from fabcity.directory import editing
from fabcity.directory.models import RecordInvalid
from fabcity.platform import Platform
from fabcity.web.auth import SESSION_COOKIE, check_csrf, client_address, set_session_cookie, visitor

NodeBody = Annotated[dict[str, Any], Body(description="A node record (the shape GET returns, without derived fields)")]


class Credentials(BaseModel):
    email: str
    password: str


class SignUp(Credentials):
    display_name: str


class RoleChange(BaseModel):
    role: str


class TokenRequest(BaseModel):
    name: str


class ClaimRequest(BaseModel):
    message: str = ""


def _problem(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": [{"loc": ["body", field], "msg": message}]})


def error_answer(error: Exception) -> JSONResponse:
    """A service error as the API's JSON answer."""
    if isinstance(error, NotAuthenticated):
        return JSONResponse(status_code=401, content={"detail": "sign in first (session cookie or bearer token)"})
    if isinstance(error, Forbidden):
        return JSONResponse(status_code=403, content={"detail": str(error) or "your role does not allow this"})
    if isinstance(error, TooManyAttempts):
        return JSONResponse(
            status_code=429,
            content={"detail": "too many failed log-ins; try again in 15 minutes"},
            headers={"Retry-After": str(int(accounts.LOGIN_WINDOW.total_seconds()))},
        )
    if isinstance(error, AccountError):
        return _problem(422, error.field, error.message)
    if isinstance(error, RecordInvalid):
        detail = [{"loc": ["body", *p.field.split(".")], "msg": p.message} for p in error.problems]
        return JSONResponse(status_code=422, content={"detail": detail})
    if isinstance(error, NotFound):
        return JSONResponse(status_code=404, content={"detail": str(error).strip("'\"")})
    raise error


SERVICE_ERRORS = (NotAuthenticated, Forbidden, TooManyAttempts, AccountError, RecordInvalid, NotFound)


def router(platform: Platform) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    def acting(request: Request):  # noqa: ANN202 - the signed-in user, after the CSRF check
        who = visitor(request)
        check_csrf(request, who)
        return who.user

    @api.post("/nodes", tags=["directory"], status_code=201, summary="Create a node (host, curator, admin)")
    def create_node(request: Request, record: NodeBody) -> dict[str, Any]:
        return editing.create_node(platform, acting(request), record)

    @api.patch("/nodes/{node_id}", tags=["directory"], summary="Edit a node: a JSON merge patch (RFC 7396)")
    def update_node(request: Request, node_id: str, patch: NodeBody) -> dict[str, Any]:
        return editing.update_node(platform, acting(request), node_id, patch)

    @api.delete("/nodes/{node_id}", tags=["directory"], summary="Close a node (it is kept, marked closed)")
    def close_node(request: Request, node_id: str) -> dict[str, Any]:
        return editing.close_node(platform, acting(request), node_id)

    @api.post("/nodes/{node_id}/verify", tags=["directory"], summary="Verify a node (curator, admin)")
    def verify_node(request: Request, node_id: str) -> dict[str, Any]:
        return editing.verify_node(platform, acting(request), node_id)

    @api.get("/nodes/{node_id}/history", tags=["directory"], summary="The node's audit trail (curator, admin)")
    def node_history(request: Request, node_id: str) -> dict[str, Any]:
        user = visitor(request).user
        with platform.engine.connect() as conn:
            record_id = editing.node_id_of(conn, node_id)
            if not editing.may_verify(user):
                raise NotAuthenticated() if user is None else Forbidden()
            return {"results": [_jsonable(entry) for entry in audit.history(conn, "node", record_id)]}

    @api.post("/nodes/{node_id}/claims", tags=["accounts"], status_code=201, summary="Ask to host a node")
    def claim_node(request: Request, node_id: str, claim: ClaimRequest) -> dict[str, Any]:
        return editing.claim_node(platform, acting(request), node_id, claim.message)

    @api.post("/claims/{claim_id}/approve", tags=["accounts"], summary="Approve a claim (curator, admin)")
    def approve_claim(request: Request, claim_id: int) -> dict[str, Any]:
        return editing.decide_claim(platform, acting(request), claim_id, approve=True)

    @api.post("/claims/{claim_id}/reject", tags=["accounts"], summary="Reject a claim (curator, admin)")
    def reject_claim(request: Request, claim_id: int) -> dict[str, Any]:
        return editing.decide_claim(platform, acting(request), claim_id, approve=False)

    @api.post("/users", tags=["accounts"], status_code=201, summary="Sign up (a member account)")
    def sign_up(body: SignUp) -> dict[str, Any]:
        return accounts.create_user(platform, body.email, body.password, body.display_name).public()

    @api.get("/users", tags=["accounts"], summary="All accounts (admin)")
    def list_users(request: Request) -> dict[str, Any]:
        user = visitor(request).user
        if user is None or user.role != "admin":
            raise NotAuthenticated() if user is None else Forbidden()
        with platform.engine.connect() as conn:
            return {"results": [u.public() for u in accounts.list_users(conn)]}

    @api.put("/users/{user_id}/role", tags=["accounts"], summary="Change a role (admin)")
    def change_role(request: Request, user_id: int, body: RoleChange) -> dict[str, Any]:
        return accounts.set_role(platform, acting(request), user_id, body.role).public()

    @api.get("/me", tags=["accounts"], summary="The signed-in account")
    def me(request: Request) -> dict[str, Any]:
        user = visitor(request).user
        if user is None:
            raise NotAuthenticated()
        return user.public()

    @api.post("/session", tags=["accounts"], summary="Log in: sets the session cookie, returns the CSRF token")
    def log_in(request: Request, body: Credentials, response: Response) -> dict[str, Any]:
        user = accounts.authenticate(platform, body.email, body.password, client_address(request))
        if user is None:
            raise NotAuthenticated()
        secret, csrf = accounts.start_session(platform, user)
        set_session_cookie(request, response, secret)
        return {"user": user.public(), "csrf_token": csrf}

    @api.delete("/session", tags=["accounts"], summary="Log out")
    def log_out(request: Request, response: Response) -> dict[str, str]:
        acting(request)
        if secret := request.cookies.get(SESSION_COOKIE):
            accounts.end_session(platform, secret)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return {"status": "signed out"}

    @api.post("/tokens", tags=["accounts"], status_code=201, summary="A new API token with your permissions")
    def create_token(request: Request, body: TokenRequest) -> dict[str, str]:
        user = acting(request)
        if user is None:
            raise NotAuthenticated()
        return {"token": accounts.create_token(platform, user, body.name), "name": body.name}

    return api


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "at": entry["at"].isoformat().replace("+00:00", "Z")}
