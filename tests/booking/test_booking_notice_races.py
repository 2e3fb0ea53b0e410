"""Notices through HTTP against `fabcity serve --workers 2`, each worker delivering after its writes to a
real local SMTP server: many members book at once, the host approves at once, and every notice arrives
exactly once, on each backend. Marked `races`; nothing sleeps, the test waits on conditions."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from builders import bookable, new_user, node_host
from databases import BACKENDS, require_backend
from fabcity.accounts import service as accounts
from fabcity.startup import open_platform
from fabcity.storage.schema import outbox
from mailboxes import mail_server
from servers import START_S, serving, until

pytestmark = pytest.mark.races
MEMBERS = 16


def _at_once(url: str, calls: list[tuple[str, str, dict | None]]) -> list[httpx.Response]:
    """POST each (token, path, body) from its own client, all released together."""
    barrier = threading.Barrier(len(calls), timeout=START_S)

    def call(token_path_body: tuple[str, str, dict | None]) -> httpx.Response:
        token, path, body = token_path_body
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=START_S, trust_env=False) as client:
            barrier.wait()
            return client.post(path, json=body)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(call, calls))


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_notice_of_bookings_made_and_approved_at_once_arrives_exactly_once(backend, backends, tmp_path):
    require_backend(backend)
    db = backends.fresh(backend)
    platform = open_platform(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        host = node_host(platform)
        resource = bookable(platform, host, mode="approval")["id"]
        members = [new_user(platform, f"m{number}", "member") for number in range(MEMBERS)]
    tokens = [accounts.create_token(platform, member, "race") for member in members]
    host_token = accounts.create_token(platform, host, "race")

    def outbox_rows() -> list:
        with platform.engine.connect() as conn:
            return conn.execute(select(outbox.c.message_id, outbox.c.sent_at)).all()

    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    bookings = [
        {"resource": resource, "starts_at": (start + timedelta(hours=n)).isoformat(),
         "ends_at": (start + timedelta(hours=n, minutes=30)).isoformat(), "idempotency_key": "notice"}
        for n in range(MEMBERS)
    ]  # fmt: skip
    try:
        with mail_server() as (smtp, inbox):
            env = {**os.environ, "FABCITY_SMTP_HOST": smtp.host, "FABCITY_SMTP_PORT": str(smtp.port)}
            with serving(db, tmp_path / "serve.log", env) as server:
                made = _at_once(server.url, [(t, "/api/v1/bookings", b) for t, b in zip(tokens, bookings, strict=True)])
                assert [answer.status_code for answer in made] == [201] * MEMBERS
                approvals = [(host_token, f"/api/v1/bookings/{answer.json()['id']}/approve", None) for answer in made]
                assert [answer.status_code for answer in _at_once(server.url, approvals)] == [200] * MEMBERS
                until(lambda: all(sent for _, sent in outbox_rows()), "every notice sent", START_S)
            received = inbox.ids()
            assert sorted(received) == sorted(message_id for message_id, _ in outbox_rows())
            assert len(received) == len(set(received)) == 2 * MEMBERS  # a request to the host, a confirmation each
            subjects = [message["Subject"] for message in inbox.received]
            assert sum("New booking request" in subject for subject in subjects) == MEMBERS
    finally:
        platform.engine.dispose()
        backends.drop(db)
