"""The suite leaves no PostgreSQL database behind: a test's own is dropped after it, and what a killed
session left is dropped by the next one, while a running session's databases are kept."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from databases import POSTGRES_ADMIN, SESSION_LOCKS, drop_leftovers


def _databases(conn: psycopg.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_a_tests_database_is_dropped_after_it(backends, backend):
    url = backends.fresh(backend)
    backends.drop(url)
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            assert url.rsplit("/", 1)[1] not in _databases(conn)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # skipped, or failed in CI, without one
def test_what_a_killed_session_left_is_dropped_and_a_running_ones_is_kept(backend):
    killed, running = (f"fabcity_test_{secrets.randbits(32):08x}" for _ in range(2))
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn, psycopg.connect(POSTGRES_ADMIN) as session:
        session.execute("SELECT pg_advisory_lock(%s)", (SESSION_LOCKS | int(running[-8:], 16),))
        for prefix in (killed, running):
            conn.execute(f"CREATE DATABASE {prefix}_full")
        try:
            for prefix in (killed, running):
                drop_leftovers(conn, older_than="0 seconds", prefix=prefix)
            assert f"{killed}_full" not in _databases(conn) and f"{running}_full" in _databases(conn)
        finally:
            for prefix in (killed, running):
                conn.execute(f"DROP DATABASE IF EXISTS {prefix}_full WITH (FORCE)")
