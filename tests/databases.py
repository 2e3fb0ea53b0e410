"""The test PostgreSQL server: where it is, whether it answers, and the clean-up of killed sessions' databases.

PostgreSQL comes from FABCITY_TEST_POSTGRES (default: the local server, trust auth). Locally a
missing server skips the tests that need it with the reason; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
import re

import psycopg
import pytest

POSTGRES_ADMIN = os.environ.get("FABCITY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]

SESSION_LOCKS = 0x0FAB << 32  # pg_advisory_lock(SESSION_LOCKS | a session's key): held while the session runs
TEST_DATABASE = re.compile(r"fabcity_test_([0-9a-f]{8})(?:_|$)")
# Older than any session runs. Sessions of checkouts from before the locks hold none: the age
# keeps their databases while they may still be running.
LEFTOVER_AGE = "1 hour"


def postgres_unavailable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {error}".splitlines()[0]


def require_backend(backend: str) -> None:
    """Skip (locally) or fail (in CI) the test when the backend's server does not answer."""
    if backend == "postgresql" and (reason := postgres_unavailable()):
        if IN_CI:
            pytest.fail(f"CI requires PostgreSQL: {reason}")
        pytest.skip(reason)


def drop_leftovers(conn: psycopg.Connection, older_than: str = LEFTOVER_AGE, prefix: str = "fabcity_test_") -> None:
    """Drop the test databases of sessions that ended without their clean-up (killed, or a crash).

    Their age comes from their files (pg_stat_file; one dropped meanwhile has none): a role that
    may not read them drops nothing. A test names its own databases' `prefix`.
    """
    like = prefix.replace("_", r"\_") + "%"
    try:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s"
            " AND (pg_stat_file('base/' || oid || '/PG_VERSION', true)).modification < now() - %s::interval",
            (like, older_than),
        ).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return
    by_session: dict[int, list[str]] = {}
    for (name,) in rows:
        if found := TEST_DATABASE.match(name):
            by_session.setdefault(int(found.group(1), 16), []).append(name)
    for key, names in by_session.items():
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (SESSION_LOCKS | key,)).fetchone()[0]:
            for name in names:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute("SELECT pg_advisory_unlock(%s)", (SESSION_LOCKS | key,))
