"""Every test that touches storage runs on both backends: SQLite and PostgreSQL.

PostgreSQL comes from FABCITY_TEST_POSTGRES (default: the local server, trust auth). Locally a
missing server skips those tests with the reason; in CI (CI=true) it fails them.
Browser tests use Debian's Chromium (FABCITY_CHROMIUM, default /usr/bin/chromium) the same way:
skipped locally when it is missing, failed in CI.
Fresh databases are cheap: each backend loads the embedded dataset once into a template that
every test copies (CREATE DATABASE … TEMPLATE on PostgreSQL, a file copy on SQLite).
A test's PostgreSQL database is dropped after it, the templates when the session ends (also on
Ctrl-C or SIGTERM). A session holds an advisory lock named by its databases' prefix while it runs,
so one that was killed outright leaves databases nobody holds: the next session drops them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from builders import BOOKING_NODE, PASSWORD, XSS, bookable
from databases import BACKENDS, IN_CI, POSTGRES_ADMIN, SESSION_LOCKS, drop_leftovers, require_backend
from fabcity.accounts import service as accounts
from fabcity.booking import calendars, qualifications, service
from fabcity.booking.models import BookingIn, PassIn, TrainingIn
from fabcity.clock import KST
from fabcity.directory import editing
from fabcity.directory import search as directory_search
from fabcity.platform import Platform
from fabcity.settings import Smtp
from fabcity.startup import open_platform
from fabcity.web.app import create_app
from mailboxes import Inbox, mail_server
from servers import DESKTOP, PHONE, browser_tab, live_app

CHROMIUM = os.environ.get("FABCITY_CHROMIUM", "/usr/bin/chromium")


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
        self.key = secrets.randbits(32)
        self.prefix = f"fabcity_test_{self.key:08x}"
        self.lock: psycopg.Connection | None = None

    def _claim_postgres(self) -> None:
        """Before the first database: hold this session's lock, and drop what killed sessions left."""
        if self.lock is None:
            self.lock = psycopg.connect(POSTGRES_ADMIN, autocommit=True)
            self.lock.execute("SELECT pg_advisory_lock(%s)", (SESSION_LOCKS | self.key,))
            drop_leftovers(self.lock)

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
                self._claim_postgres()
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

    def drop(self, url: str) -> None:
        """Drop a PostgreSQL database made by fresh() (a SQLite copy goes with the session's folder)."""
        name = url.rsplit("/", 1)[1]
        if name in self.created_pg:
            _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self.created_pg.remove(name)

    def drop_all(self) -> None:
        for name in reversed(self.created_pg):
            _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.created_pg.clear()
        if self.lock is not None:
            self.lock.close()  # releases the session's lock


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # pytest then tears the session down, dropping its databases


@pytest.fixture(scope="session")
def backends(tmp_path_factory) -> Iterator[Backends]:
    manager = Backends(tmp_path_factory.mktemp("databases"))
    terminated = signal.signal(signal.SIGTERM, _interrupt)  # a CI time-out or `kill`, as Ctrl-C
    try:
        yield manager
    finally:
        signal.signal(signal.SIGTERM, terminated)
        manager.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    require_backend(request.param)
    return request.param


@pytest.fixture
def db_url(backends: Backends, backend: str) -> Iterator[str]:
    """A fresh database with the whole embedded dataset, dropped after the test."""
    url = backends.fresh(backend)
    yield url
    backends.drop(url)


@pytest.fixture
def platform(db_url: str) -> Iterator[Platform]:
    opened = open_platform(db_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def mail() -> Iterator[tuple[Smtp, Inbox]]:
    """A real SMTP server on this machine (aiosmtpd) for one test: the settings reaching it, and its inbox."""
    with mail_server() as server:
        yield server


@pytest.fixture
def client(platform) -> Iterator[TestClient]:
    """The whole app (API and pages) over a fresh database with the embedded dataset."""
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def fresh_search_statements() -> None:
    """Each test builds the search statements it runs: a statement cached by an earlier test (or, under
    mutmut, by the process the mutant's run was forked from) would hide a change to the code building them."""
    directory_search._statement.cache_clear()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch) -> None:
    """argon2 at its lowest cost: the tests are about who may do what, not about hashing speed."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def empty_platform(backends: Backends, backend: str) -> Iterator[Platform]:
    """Seoul's geography and statistics, but no nodes."""
    url = backends.fresh(backend, nodes=False)
    opened = open_platform(url, nodes=False)
    yield opened
    opened.engine.dispose()
    backends.drop(url)


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


@pytest.fixture(scope="module")
def site(backends) -> Iterator[str]:
    """A live server on loopback with a host, another host, a curator and a node named like an attack.

    One per test module (the browser tests of a module share its data).
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    original, accounts._hasher = accounts._hasher, cheap
    platform = open_platform(backends.fresh("sqlite"))
    curator = accounts.create_user(platform, "curator@example.kr", PASSWORD, "큐레이터", role="curator")
    host = accounts.create_user(platform, "host@example.kr", PASSWORD, "호스트", role="member")
    accounts.create_user(platform, "other@example.kr", PASSWORD, "다른 호스트", role="host")
    claim = editing.claim_node(platform, host, "fab-lab-seoul", "운영자입니다")
    editing.decide_claim(platform, curator, claim["id"], approve=True)
    editing.create_node(
        platform, curator,
        {"name": {"ko": XSS}, "node_type": "studio", "location": {"lat": 37.5665, "lon": 126.978},
         "description": {"ko": XSS}, "slug": "attack"},
    )  # fmt: skip
    with platform.engine.connect() as conn:
        approved_host = accounts.get_user(conn, host.id)  # a host of the node now, no longer a member
    _book_at_the_node(platform, approved_host, curator)
    with live_app(create_app(platform)) as url:
        yield url
    platform.engine.dispose()
    accounts._hasher = original


def _book_at_the_node(platform: Platform, host: accounts.User, member: accounts.User) -> None:
    """What the booking pages show, made through the services: the host's laser cutter (resource 1, on approval,
    paid) and focus booth (resource 2), the member's booking of the cutter (booking 1) approved and waiting for
    payment, a training the member passed, and a calendar feed of each."""
    cutter = bookable(platform, host, ("09:00", "21:00"), mode="approval", price_per_slot_krw=10_000,
                      granularity_min=60, min_duration_min=60, name_en="Laser cutter")  # fmt: skip
    bookable(platform, host, kind="focus_booth", name_ko="집중 부스", name_en="Focus booth")
    start = (datetime.now(KST) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    request = BookingIn(resource=cutter["id"], starts_at=start, ends_at=start + timedelta(hours=2), idempotency_key="k")
    booked = service.create_booking(platform, member, request)
    service.move_booking(platform, host, booked["id"], "approve")
    safety = TrainingIn(name_ko="레이저 커터 안전교육", name_en="Laser cutter safety", valid_months=12)
    training = qualifications.create_training(platform, host, BOOKING_NODE, safety)
    passed = PassIn(email=member.email, passed_on=start.date() - timedelta(days=7), note="1기 수료")
    qualifications.record_pass(platform, host, training["id"], passed)
    calendars.create_feed(platform, host, cutter["id"])
    calendars.create_feed(platform, member, None)


@pytest.fixture
def page(browser, site, request):
    """A Korean browser tab on the live site, its dialogs dismissed and kept in `tab.dialogs`."""
    with browser_tab(browser, site, DESKTOP, request) as tab:
        tab.dialogs = []
        tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
        yield tab


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell a failed test (screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def embedded_site(backends: Backends) -> Iterator[str]:
    """A live server on loopback over a fresh SQLite copy of the embedded dataset, nothing added."""
    platform = open_platform(backends.fresh("sqlite"))
    with live_app(create_app(platform)) as url:
        yield url
    platform.engine.dispose()


@pytest.fixture
def phone(browser, embedded_site, request) -> Iterator[object]:
    """A tab 390 px wide (a small phone) on the embedded site, in Korean."""
    with browser_tab(browser, embedded_site, PHONE, request) as tab:
        yield tab
