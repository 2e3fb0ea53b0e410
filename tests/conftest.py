"""Every test that touches storage runs on both backends: SQLite and PostgreSQL.

PostgreSQL comes from FABCITY_TEST_POSTGRES (default: the local server, trust auth). Locally a
missing server skips those tests with the reason; in CI (CI=true) it fails them.
Browser tests use Debian's Chromium (FABCITY_CHROMIUM, default /usr/bin/chromium) the same way:
skipped locally when it is missing, failed in CI.
Fresh databases are cheap: each backend loads the embedded dataset once into a template that
every test copies (CREATE DATABASE … TEMPLATE on PostgreSQL, a file copy on SQLite).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from fabcity.accounts import service as accounts
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.web.app import create_app

CHROMIUM = os.environ.get("FABCITY_CHROMIUM", "/usr/bin/chromium")
POSTGRES_ADMIN = os.environ.get("FABCITY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]


def _postgres_unavailable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {error}".splitlines()[0]


def _admin_execute(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(statement)


def _postgres_url(name: str) -> str:
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


class Backends:
    """Per-backend templates (full dataset, and geography only) and the databases copied from them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.templates: dict[tuple[str, bool], str] = {}
        self.created_pg: list[str] = []
        self.prefix = f"fabcity_test_{uuid.uuid4().hex[:8]}"

    def template(self, backend: str, nodes: bool) -> str:
        key = (backend, nodes)
        if key not in self.templates:
            suffix = "full" if nodes else "geo"
            if backend == "sqlite":
                path = self.tmp / f"template_{suffix}.sqlite3"
                open_platform(str(path), nodes=nodes).engine.dispose()
                with sqlite3.connect(path) as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self.templates[key] = str(path)
            else:
                name = f"{self.prefix}_{suffix}"
                _admin_execute(f"CREATE DATABASE {name}")
                self.created_pg.append(name)
                open_platform(_postgres_url(name), nodes=nodes).engine.dispose()
                self.templates[key] = name
        return self.templates[key]

    def fresh(self, backend: str, nodes: bool = True) -> str:
        template = self.template(backend, nodes)
        if backend == "sqlite":
            path = self.tmp / f"db_{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copyfile(template, path)
            return str(path)
        name = f"{self.prefix}_{uuid.uuid4().hex[:8]}"
        _admin_execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        self.created_pg.append(name)
        return _postgres_url(name)

    def drop_all(self) -> None:
        for name in reversed(self.created_pg):
            _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def backends(tmp_path_factory) -> Iterator[Backends]:
    manager = Backends(tmp_path_factory.mktemp("databases"))
    yield manager
    if manager.created_pg:
        manager.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgresql":
        reason = _postgres_unavailable()
        if reason:
            if IN_CI:
                pytest.fail(f"CI requires PostgreSQL: {reason}")
            pytest.skip(reason)
    return request.param


@pytest.fixture
def db_url(backends: Backends, backend: str) -> str:
    """A fresh database with the whole embedded dataset."""
    return backends.fresh(backend)


@pytest.fixture
def platform(db_url: str) -> Iterator[Platform]:
    opened = open_platform(db_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def client(platform) -> Iterator[TestClient]:
    """The whole app (API and pages) over a fresh database with the embedded dataset."""
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch) -> None:
    """argon2 at its lowest cost: the tests are about who may do what, not about hashing speed."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def empty_platform(backends: Backends, backend: str) -> Iterator[Platform]:
    """Seoul's geography and statistics, but no nodes."""
    opened = open_platform(backends.fresh(backend, nodes=False), nodes=False)
    yield opened
    opened.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI requires the browser: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failed test (screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
