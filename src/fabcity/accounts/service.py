"""Users, passwords, sessions, API tokens and roles.

Passwords are hashed with argon2id. Session cookies and API tokens are random secrets of which
only a SHA-256 is stored, so a copy of the database lets nobody sign in. Failed log-ins are
recorded and rate-limited per e-mail address and per client address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Connection, delete, exists, func, insert, or_, select, update

from fabcity import audit
from fabcity.errors import Conflict, FieldError, Forbidden, NotAuthenticated, NotFound, TooManyAttempts
from fabcity.platform import Platform
from fabcity.storage.schema import api_token, login_attempt, user_account, web_session

ROLES = ("member", "host", "curator", "admin")
SESSION_LIFETIME = timedelta(days=14)
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    role: str

    def public(self) -> dict[str, object]:
        return {"id": self.id, "email": self.email, "display_name": self.display_name, "role": self.role}


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user(row) -> User:
    return User(row.id, row.email, row.display_name, row.role)


def _normal_email(email: str) -> str:
    return email.strip().casefold()


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(user_account).where(user_account.c.id == user_id)).first()
    return _user(row) if row else None


def find_user(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(user_account).where(user_account.c.email == _normal_email(email))).first()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(select(user_account).order_by(user_account.c.id))]


def create_user(platform: Platform, email: str, password: str, display_name: str, role: str = "member") -> User:
    """A new account; the first admin is made with `fabcity user create --role admin`."""
    email = _normal_email(email)
    if not _EMAIL.match(email):
        raise FieldError("email", "not an e-mail address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError("password", f"use at least {MIN_PASSWORD_LENGTH} characters")
    if not display_name.strip():
        raise FieldError("display_name", "a name is needed")
    if role not in ROLES:
        raise FieldError("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    with platform.engine.begin() as conn:
        if find_user(conn, email):
            raise FieldError("email", "an account with this e-mail address exists")
        values = {
            "email": email,
            "password_hash": _hasher.hash(password),
            "display_name": display_name.strip(),
            "role": role,
            "created_at": _now(),
        }
        user_id = conn.execute(insert(user_account).values(**values).returning(user_account.c.id)).scalar_one()
        audit.record(conn, user_id, "user.create", "user", str(user_id), {"email": [None, email], "role": [None, role]})
    return User(user_id, email, values["display_name"], role)


def authenticate(platform: Platform, email: str, password: str, client: str) -> User | None:
    """The user these credentials belong to, or None; raises TooManyAttempts when rate-limited.

    Every attempt is recorded; the limit counts failures in the last 15 minutes.
    """
    email = _normal_email(email)
    since = _now() - LOGIN_WINDOW
    with platform.engine.begin() as conn:
        failures = select(func.count()).where(login_attempt.c.at >= since, login_attempt.c.succeeded == 0)
        by_email = conn.execute(failures.where(login_attempt.c.email == email)).scalar_one()
        by_client = conn.execute(failures.where(login_attempt.c.client == client)).scalar_one()
        if by_email >= MAX_FAILURES_PER_EMAIL or by_client >= MAX_FAILURES_PER_CLIENT:
            raise TooManyAttempts(retry_after_s=int(LOGIN_WINDOW.total_seconds()))
        row = conn.execute(select(user_account).where(user_account.c.email == email)).first()
        succeeded = row is not None and _password_matches(row.password_hash, password)
        conn.execute(insert(login_attempt).values(email=email, client=client, at=_now(), succeeded=int(succeeded)))
        return _user(row) if succeeded else None


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def start_session(platform: Platform, user: User) -> tuple[str, str]:
    """A new session: (cookie value, CSRF token). Only the cookie value's digest is stored."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with platform.engine.begin() as conn:
        conn.execute(delete(web_session).where(web_session.c.expires_at < now))
        conn.execute(
            insert(web_session).values(
                token_hash=_digest(secret),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )  # fmt: skip
        )
    return secret, csrf


def session_user(conn: Connection, secret: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session cookie."""
    query = (
        select(user_account, web_session.c.csrf_token)
        .join(web_session, web_session.c.user_id == user_account.c.id)
        .where(web_session.c.token_hash == _digest(secret), web_session.c.expires_at > _now())
    )
    row = conn.execute(query).first()
    return (_user(row), row.csrf_token) if row else None


def end_session(platform: Platform, secret: str) -> None:
    with platform.engine.begin() as conn:
        conn.execute(delete(web_session).where(web_session.c.token_hash == _digest(secret)))


def create_token(platform: Platform, user: User, name: str) -> str:
    """A new API token for scripts; it acts with its owner's permissions. Shown once."""
    if not name.strip():
        raise FieldError("name", "name the token (e.g. the script that uses it)")
    token = "fct_" + secrets.token_urlsafe(32)
    with platform.engine.begin() as conn:
        token_id = conn.execute(
            insert(api_token)
            .values(user_id=user.id, name=name.strip(), token_hash=_digest(token), created_at=_now())
            .returning(api_token.c.id)
        ).scalar_one()
        audit.record(conn, user.id, "token.create", "token", str(token_id), {"name": [None, name.strip()]})
    return token


def token_user(conn: Connection, token: str) -> User | None:
    query = (
        select(user_account)
        .join(api_token, api_token.c.user_id == user_account.c.id)
        .where(api_token.c.token_hash == _digest(token), api_token.c.revoked_at.is_(None))
    )
    row = conn.execute(query).first()
    return _user(row) if row else None


def set_role(platform: Platform, actor: User | None, user_id: int, role: str) -> User:
    """Admins change roles; the last admin cannot give the role away, even when two admins act at once.

    The admins' rows and the target's are locked first, in id order (SELECT … FOR NO KEY UPDATE on
    PostgreSQL, which leaves rows that only refer to a user unblocked; SQLite has no row locks).
    The change is then one conditional UPDATE that checks, as it writes, that the target still has
    the role read, the actor is still an admin and another admin remains: atomic on SQLite, whose
    write lock serialises it, and under the locks on PostgreSQL. When it changes nothing, the
    reason is read under the same locks.
    """
    if actor is None:
        raise NotAuthenticated()
    if actor.role != "admin":
        raise Forbidden()
    if role not in ROLES:
        raise FieldError("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    with platform.engine.begin() as conn:
        held = select(user_account.c.id).where(or_(user_account.c.role == "admin", user_account.c.id == user_id))
        conn.execute(held.order_by(user_account.c.id).with_for_update(key_share=True)).all()
        target = get_user(conn, user_id)
        if target is None:
            raise NotFound(f"no user {user_id}")
        if target.role == role:
            return target
        admin = user_account.alias("admin")
        admins = select(func.count()).where(admin.c.role == "admin").scalar_subquery()
        change = update(user_account).where(
            user_account.c.id == user_id,
            user_account.c.role == target.role,
            exists().where(admin.c.id == actor.id, admin.c.role == "admin"),
        )
        if target.role == "admin":
            change = change.where(admins > 1)
        if conn.execute(change.values(role=role)).rowcount == 0:
            _refuse_role_change(conn, actor, target)
        audit.record(conn, actor.id, "user.role", "user", str(user_id), {"role": [target.role, role]})
    return User(target.id, target.email, target.display_name, role)


def _refuse_role_change(conn: Connection, actor: User, target: User) -> NoReturn:
    """Why set_role's conditional UPDATE changed nothing: another write came first."""
    current = get_user(conn, target.id)
    if current is None or current.role != target.role:
        raise Conflict("the user's role was changed at the same moment; look at it again")
    if target.role == "admin":
        admins = conn.execute(select(func.count()).where(user_account.c.role == "admin")).scalar_one()
        if admins <= 1:
            raise FieldError("role", "this is the last admin; make another admin first")
    raise Forbidden("you are no longer an admin")
