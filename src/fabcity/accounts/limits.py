"""How often signing in and signing up may be tried: counters in the database, one count for every worker.

A try is counted before the password is checked, in a transaction that holds the counter's row
(SELECT … FOR UPDATE on PostgreSQL; on SQLite the first write takes the database's write lock), so
tries made at the same moment cannot all pass a check made before any of them was counted. A
refused try counts nothing. docs/security.md gives the numbers and the reasons for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, case, delete, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from fabcity.errors import TooManyAttempts
from fabcity.storage.schema import attempt_limit

_MOST_DOUBLINGS = 16  # a first wait doubled 16 times is past any longest wait; keeps the arithmetic small


@dataclass(frozen=True)
class Limit:
    """`free` tries per `window`; the try that uses the last free one makes the next one wait: until the
    window ends or, with `first_wait`, for a wait that doubles with each further try, up to `longest_wait`."""

    kind: str
    free: int
    window: timedelta
    first_wait: timedelta | None = None
    longest_wait: timedelta | None = None

    def next_try(self, tries: int, since: datetime, now: datetime) -> datetime | None:
        """When the next try may come after `tries` tries counted since `since`; None: at once."""
        if tries < self.free:
            return None
        if self.first_wait is None or self.longest_wait is None:
            return since + self.window
        doubled = self.first_wait * 2 ** min(tries - self.free, _MOST_DOUBLINGS)
        return now + min(doubled, self.longest_wait)


SIGN_IN_PAIR = Limit("pair", 5, timedelta(hours=24), timedelta(minutes=1), timedelta(hours=1))
"""One e-mail from one address: 5 tries, then waits of 1, 2, 4 … minutes up to an hour; a success starts over."""
SIGN_IN_EMAIL = Limit("e-mail", 20, timedelta(hours=1))
"""One e-mail from addresses it has not signed in from lately (guessing from many addresses)."""
SIGN_IN_ADDRESS = Limit("address", 30, timedelta(minutes=15))
"""One address, for e-mails that have not signed in from it lately (one address trying many e-mails)."""
SIGN_UP_ADDRESS = Limit("sign-up", 10, timedelta(hours=1))
"""New accounts from one address."""
RESET_ADDRESS = Limit("reset", 10, timedelta(hours=1))
"""Password reset requests from one address (asking for many e-mails)."""
RESET_EMAIL = Limit("reset-mail", 3, timedelta(hours=1))
"""Password reset e-mails to one address: nobody can fill a mailbox with them."""
_LONGEST_WINDOW = max(
    limit.window
    for limit in (SIGN_IN_PAIR, SIGN_IN_EMAIL, SIGN_IN_ADDRESS, SIGN_UP_ADDRESS, RESET_ADDRESS, RESET_EMAIL)
)


def take_turn(conn: Connection, limit: Limit, subject: str, now: datetime) -> None:
    """Count a try of `subject`; while it must wait, raise TooManyAttempts and count nothing."""
    new = _insert(conn).values(kind=limit.kind, subject=subject, tries=0, since=now)
    conn.execute(new.on_conflict_do_nothing())
    row = conn.execute(select(attempt_limit).where(_row(limit, subject)).with_for_update()).one()
    wait_until = _aware(row.wait_until)
    if wait_until is not None and now < wait_until:
        raise TooManyAttempts("too many tries; try again later", math.ceil((wait_until - now).total_seconds()))
    since = _aware(row.since)
    tries, since = (row.tries + 1, since) if now < since + limit.window else (1, now)
    changed = {"tries": tries, "since": since, "wait_until": limit.next_try(tries, since, now)}
    conn.execute(update(attempt_limit).where(_row(limit, subject)).values(**changed))


def give_back(conn: Connection, limit: Limit, subject: str) -> None:
    """Uncount a try that succeeded: only failures count against `limit`."""
    tries = attempt_limit.c.tries - 1
    waiting = case((tries < limit.free, None), else_=attempt_limit.c.wait_until)
    conn.execute(
        update(attempt_limit)
        .where(_row(limit, subject), attempt_limit.c.tries > 0)
        .values(tries=tries, wait_until=waiting)
    )


def forget(conn: Connection, limit: Limit, subject: str) -> None:
    """Start the count of `subject` over (a success resets its pair's count)."""
    conn.execute(delete(attempt_limit).where(_row(limit, subject)))


def prune(conn: Connection, now: datetime) -> None:
    """Drop counters that no limit needs any more; rows a try holds right now are left for next time."""
    idle = (
        select(attempt_limit.c.kind, attempt_limit.c.subject)
        .where(
            attempt_limit.c.since < now - _LONGEST_WINDOW,
            or_(attempt_limit.c.wait_until.is_(None), attempt_limit.c.wait_until < now),
        )
        .with_for_update(skip_locked=True)
    )
    conn.execute(delete(attempt_limit).where(tuple_(attempt_limit.c.kind, attempt_limit.c.subject).in_(idle)))


def _row(limit: Limit, subject: str) -> ColumnElement[bool]:
    return and_(attempt_limit.c.kind == limit.kind, attempt_limit.c.subject == subject)


def _insert(conn: Connection) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can step aside for a row another try has just made (ON CONFLICT DO NOTHING)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(attempt_limit)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives back the stored UTC time without its zone."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
