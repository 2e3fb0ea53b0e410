"""Users, passwords, sessions, API tokens and roles.

Passwords are hashed with argon2id. Session cookies and API tokens are random secrets of which
only a SHA-256 is stored, so a copy of the database lets nobody sign in. Signing in and signing
up are limited per e-mail and client address (accounts.limits; docs/security.md), and an unknown
e-mail costs the same password check as a known one, so the time of an answer does not tell
whether an account exists.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NoReturn, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Connection, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from zxcvbn import zxcvbn

from fabcity import audit
from fabcity.accounts import limits
from fabcity.errors import Conflict, FieldError, Forbidden, NotAuthenticated, NotFound, RecordInvalid
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.storage.schema import (
    api_token,
    audit_log,
    login_attempt,
    node_claim,
    node_host,
    password_reset,
    user_account,
    web_session,
)

ROLES = ("member", "host", "curator", "admin")
SESSION_LIFETIME = timedelta(days=14)
KNOWN_ADDRESS_FOR = timedelta(days=30)
"""An e-mail signed in from an address within this time is tried from it under its pair's limit only;
sign-in attempts are kept this long (the privacy notice says so)."""
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
"""Checked before hashing: a longer password would only cost hashing time."""
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
STRENGTH_CHECKED_LENGTH = 72
"""zxcvbn's own bound: the estimate grows costly with length, and 72 characters are enough to judge."""
MIN_STRENGTH = 3
"""zxcvbn's score 3: about 10^8 guesses or more; common passwords, repeats and sequences score 0–1."""
RESET_LIFETIME = timedelta(hours=1)
DELETED_NAME = "삭제된 계정 / deleted account"
"""Who a deleted account's contributions are attributed to."""
_UNUSABLE_HASH = "!"  # no argon2 hash: no password matches it
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = ("Cc", "Cs")  # Unicode categories: C0 and C1 controls (NUL among them), lone surrogates
_hasher = PasswordHasher()
_T = TypeVar("_T")
_strength_lock = threading.Lock()  # zxcvbn keeps the user's words of a check in a module-level dictionary


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


def _plain_text(field: str, value: str, max_length: int) -> str:
    """`value` stripped, if it is short enough and holds no control character (PostgreSQL refuses a NUL)."""
    if len(value) > max_length:
        raise FieldError(field, "too long")
    if any(unicodedata.category(character) in _CONTROL for character in value):
        raise FieldError(field, "remove the control characters")
    return value.strip()


def _checked_email(email: str) -> str:
    return _plain_text("email", _normal_email(email), MAX_EMAIL_LENGTH)


def _check_password_length(password: str) -> None:
    if len(password) > MAX_PASSWORD_LENGTH:
        raise FieldError("password", "too long")


def _check_new_password(password: str, own_words: list[str]) -> None:
    """Long enough, and not a common password, a pattern or the person's own name or e-mail."""
    _check_password_length(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError("password", "too short: use at least 10 characters")
    with _strength_lock:
        estimate = zxcvbn(password[:STRENGTH_CHECKED_LENGTH], user_inputs=own_words)
    if estimate["score"] < MIN_STRENGTH:
        raise FieldError("password", "too easy to guess (common, a pattern, or close to your name or e-mail)")


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(user_account).where(user_account.c.id == user_id)).first()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(row) for row in conn.execute(select(user_account).order_by(user_account.c.id))]


def create_user(platform: Platform, email: str, password: str, display_name: str, role: str = "member") -> User:
    """A new account of any role (the first admin is made with `fabcity user create --role admin`)."""
    email, display_name = _new_account(email, password, display_name, role)
    return _insert_user(platform, email, _hasher.hash(password), display_name, role)


def sign_up(platform: Platform, email: str, password: str, display_name: str, client: str, consented: bool) -> User:
    """A member's own new account, once they accept the privacy notice (the time is kept); each client
    address may make a few an hour (limits.SIGN_UP_ADDRESS).

    Only a sign-up that passes the field checks counts, so a typo costs nothing; one for an e-mail
    that has an account counts, so the answer "exists" cannot be asked of many e-mails.
    """
    consent = [] if consented else [FieldError("consent", "accept the privacy notice to sign up")]
    email, display_name = _new_account(email, password, display_name, "member", consent)
    with platform.engine.begin() as conn:
        limits.take_turn(conn, limits.SIGN_UP_ADDRESS, client, _now())
    return _insert_user(platform, email, _hasher.hash(password), display_name, "member", consented_at=_now())


def _new_account(
    email: str, password: str, display_name: str, role: str, others: list[FieldError] | None = None
) -> tuple[str, str]:
    """The e-mail and name of a new account as stored; every field's problem (and `others`) told at once."""
    problems: list[FieldError] = []
    checked_email = _field_checked(problems, lambda: _checked_email(email), None)
    if checked_email is not None and not _EMAIL.match(checked_email):
        problems.append(FieldError("email", "not an e-mail address"))
    email = checked_email or ""
    display_name = _field_checked(problems, lambda: _plain_text("display_name", display_name, MAX_NAME_LENGTH), None)
    if display_name == "":
        problems.append(FieldError("display_name", "a name is needed"))
    own_words = [email, email.split("@")[0], display_name or ""]
    _field_checked(problems, lambda: _check_new_password(password, own_words), None)
    if role not in ROLES:
        problems.append(FieldError("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}"))
    problems += others or []
    if problems:
        raise RecordInvalid(problems)
    return email, display_name


def _field_checked(problems: list[FieldError], check: Callable[[], _T], instead: _T) -> _T:
    """The checked value, or `instead` with the check's problem noted."""
    try:
        return check()
    except FieldError as problem:
        problems.append(problem)
        return instead


def _insert_user(
    platform: Platform,
    email: str,
    password_hash: str,
    display_name: str,
    role: str,
    consented_at: datetime | None = None,
) -> User:
    values = {
        "email": email,
        "password_hash": password_hash,
        "display_name": display_name,
        "role": role,
        "created_at": _now(),
        "consented_at": consented_at,
    }
    try:
        with platform.engine.begin() as conn:
            user_id = conn.execute(insert(user_account).values(**values).returning(user_account.c.id)).scalar_one()
            audit.record(
                conn, user_id, "user.create", "user", str(user_id), {"email": [None, email], "role": [None, role]}
            )
    except IntegrityError:  # the unique e-mail: another sign-up took it first, or earlier
        raise FieldError("email", "an account with this e-mail address exists") from None
    return User(user_id, email, display_name, role)


def authenticate(platform: Platform, email: str, password: str, client: str) -> User | None:
    """The user these credentials belong to, or None; raises TooManyAttempts while limited.

    The try is counted (limits) before the password is checked. An e-mail that signed in from this
    address lately is limited only as that pair, so someone else's failures elsewhere cannot lock
    its owner out; other tries also count against the e-mail and the address. A success starts the
    pair's count over and does not count against the others.
    """
    email = _checked_email(email)
    _check_password_length(password)
    now = _now()
    pair = f"{email} {client}"
    with platform.engine.begin() as conn:
        counted = [(limits.SIGN_IN_PAIR, pair)]
        if not _signed_in_lately(conn, email, client, now):
            counted += [(limits.SIGN_IN_EMAIL, email), (limits.SIGN_IN_ADDRESS, client)]
        for limit, subject in counted:
            limits.take_turn(conn, limit, subject, now)
        row = conn.execute(select(user_account).where(user_account.c.email == email)).first()
    # an unknown e-mail is checked against a stand-in hash: the same work, so the same time
    matches = _password_matches(row.password_hash if row else _stand_in_hash(_hasher), password)
    succeeded = row is not None and matches
    with platform.engine.begin() as conn:
        conn.execute(insert(login_attempt).values(email=email, client=client, at=now, succeeded=int(succeeded)))
        if succeeded:
            limits.forget(conn, limits.SIGN_IN_PAIR, pair)
            for limit, subject in counted[1:]:
                limits.give_back(conn, limit, subject)
            limits.prune(conn, now)
            conn.execute(delete(login_attempt).where(login_attempt.c.at < now - KNOWN_ADDRESS_FOR))
    return _user(row) if succeeded else None


def _signed_in_lately(conn: Connection, email: str, client: str, now: datetime) -> bool:
    succeeded = select(login_attempt.c.id).where(
        login_attempt.c.email == email,
        login_attempt.c.client == client,
        login_attempt.c.succeeded == 1,
        login_attempt.c.at >= now - KNOWN_ADDRESS_FOR,
    )
    return conn.execute(select(exists(succeeded))).scalar_one()


@cache
def _stand_in_hash(hasher: PasswordHasher) -> str:
    """A hash of a random secret, made with the hasher's parameters, to check unknown e-mails against."""
    return hasher.hash(secrets.token_urlsafe(16))


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
    name = _plain_text("name", name, MAX_NAME_LENGTH)
    if not name:
        raise FieldError("name", "name the token (e.g. the script that uses it)")
    token = "fct_" + secrets.token_urlsafe(32)
    with platform.engine.begin() as conn:
        token_id = conn.execute(
            insert(api_token)
            .values(user_id=user.id, name=name, token_hash=_digest(token), created_at=_now())
            .returning(api_token.c.id)
        ).scalar_one()
        audit.record(conn, user.id, "token.create", "token", str(token_id), {"name": [None, name]})
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


# --- password reset and account deletion -------------------------------------------------


def request_reset(platform: Platform, email: str, client: str, site_url: str) -> None:
    """E-mail a one-time link to set a new password, if the account exists; the answer is the same
    either way, so nobody learns whether an e-mail has an account. Limited per address and per
    e-mail (limits.RESET_ADDRESS, limits.RESET_EMAIL) so the form cannot flood a mailbox."""
    email = _checked_email(email)
    now = _now()
    with platform.engine.begin() as conn:
        limits.take_turn(conn, limits.RESET_ADDRESS, client, now)
        limits.take_turn(conn, limits.RESET_EMAIL, email, now)
        conn.execute(delete(password_reset).where(password_reset.c.expires_at < now))
        row = conn.execute(
            select(user_account).where(user_account.c.email == email, user_account.c.deleted_at.is_(None))
        ).first()
        if row is None:
            return
        token = secrets.token_urlsafe(32)
        conn.execute(
            insert(password_reset).values(
                token_hash=_digest(token), user_id=row.id, created_at=now, expires_at=now + RESET_LIFETIME
            )  # fmt: skip
        )
        link = f"{site_url}/reset/{token}"
        outbox.queue(
            conn,
            email,
            "[팹시티 서울] 비밀번호 재설정 / Set a new password",
            f"{row.display_name}님, 아래 링크에서 새 비밀번호를 정하세요. 링크는 한 시간 동안 한 번만 쓸 수 있습니다.\n"
            f"{link}\n\n"
            f"{row.display_name}, set a new password at the link above; it works once, within an hour.\n\n"
            "직접 요청하지 않으셨다면 이 메일을 무시하세요. / If you did not ask for this, ignore this e-mail.",
        )


def reset_password(platform: Platform, token: str, password: str) -> User:
    """Set a new password with a reset token: once, before it expires. Every session of the account and
    every other link sent to it end.

    The token is spent by a compare-and-swap on its used_at, in the transaction that changes the
    password, so two uses at once change it once.
    """
    _check_password_length(password)
    now = _now()
    spent = (
        update(password_reset)
        .where(
            password_reset.c.token_hash == _digest(token),
            password_reset.c.used_at.is_(None),
            password_reset.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(password_reset.c.user_id)
    )
    with platform.engine.connect() as conn:
        user_id = conn.execute(
            select(password_reset.c.user_id).where(password_reset.c.token_hash == _digest(token))
        ).scalar()
        user = get_user(conn, user_id) if user_id is not None else None
    if user is None:
        raise NotFound("this link is not valid; ask for a new one")
    _check_new_password(password, [user.email, user.email.split("@")[0], user.display_name])
    password_hash = _hasher.hash(password)
    with platform.engine.begin() as conn:
        if conn.execute(spent).scalar() is None:
            raise Conflict("this link was used or has expired; ask for a new one")
        conn.execute(update(user_account).where(user_account.c.id == user.id).values(password_hash=password_hash))
        conn.execute(delete(web_session).where(web_session.c.user_id == user.id))
        others = delete(password_reset).where(password_reset.c.user_id == user.id, password_reset.c.used_at.is_(None))
        conn.execute(others)  # an older link, still in a mailbox, no longer works
        audit.record(conn, user.id, "user.password", "user", str(user.id), {"password": ["reset", "reset"]})
    return user


def delete_account(platform: Platform, user: User | None, password: str) -> None:
    """The person's own account, after their password: gone as a person, kept as a number.

    Their name and e-mail are replaced everywhere they are stored (the account, the audit trail's
    entries about it, the outbox), their sessions, tokens, resets and pending claims end, and what
    they contributed stays, attributed to DELETED_NAME: the audit trail keeps every entry. The
    e-mail is free to sign up with again.
    """
    if user is None:
        raise NotAuthenticated()
    _check_password_length(password)
    with platform.engine.connect() as conn:
        stored = conn.execute(select(user_account.c.password_hash).where(user_account.c.id == user.id)).scalar()
    if stored is None or not _password_matches(stored, password):
        raise FieldError("password", "wrong password")
    now = _now()
    placeholder = f"deleted-{user.id}@deleted.invalid"
    with platform.engine.begin() as conn:
        conn.execute(
            update(user_account)
            .where(user_account.c.id == user.id)
            .values(
                email=placeholder,
                display_name=DELETED_NAME,
                password_hash=_UNUSABLE_HASH,
                role="member",
                deleted_at=now,
            )  # fmt: skip
        )
        for table in (web_session, api_token, password_reset, node_host):
            conn.execute(delete(table).where(table.c.user_id == user.id))
        conn.execute(delete(login_attempt).where(login_attempt.c.email == user.email))
        conn.execute(
            update(node_claim)
            .where(node_claim.c.user_id == user.id, node_claim.c.status == "pending")
            .values(status="withdrawn")
        )
        outbox.forget(conn, user.email)
        _forget_in_trail(conn, user, placeholder)
        audit.record(conn, user.id, "user.delete", "user", str(user.id), {"deleted_at": [None, now.isoformat()]})


def _forget_in_trail(conn: Connection, user: User, placeholder: str) -> None:
    """The audit entries about the account keep what changed, with its e-mail and name replaced."""
    personal = {user.email: placeholder, user.display_name: DELETED_NAME}
    entries = conn.execute(
        select(audit_log.c.id, audit_log.c.changes).where(
            audit_log.c.entity == "user", audit_log.c.entity_id == str(user.id)
        )
    ).all()
    for entry_id, changes in entries:
        kept = {
            field: [personal.get(v, v) if isinstance(v, str) else v for v in pair] for field, pair in changes.items()
        }
        if kept != changes:
            conn.execute(update(audit_log).where(audit_log.c.id == entry_id).values(changes=kept))
