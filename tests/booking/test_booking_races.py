"""Clients racing for one slot through HTTP against `fabcity serve --workers 2`, on each backend.

The clients of a round start together at a barrier; nothing sleeps or is timed. Marked `races`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from builders import add_nodes, bookable, new_user, node_host, node_record
from databases import BACKENDS, require_backend
from fabcity import audit
from fabcity.accounts import service as accounts
from fabcity.booking.resources import bookable_machines
from fabcity.startup import open_platform
from fabcity.storage.schema import booking, booking_resource
from servers import START_S, serving

pytestmark = pytest.mark.races
CLIENTS = 64
MAKERS = 8  # the hosts of MACHINE_NODE, each making its one listed machine bookable
MACHINE_NODE = "race-works"


@dataclass(frozen=True)
class Served:
    """A running server, its database, bookable resources and a token for each of CLIENTS members and the host.

    `resource` and the next are instant; `by_request` waits for the host's approval. `machine` is the one
    machine MACHINE_NODE lists (not yet bookable); `maker_tokens` are its MAKERS hosts'.
    """

    url: str
    db: str
    resource: int
    by_request: int
    tokens: list[str]
    host_token: str
    machine: int
    maker_tokens: list[str]

    def bookings_of(self, resource: int) -> list[int]:
        platform = open_platform(self.db)
        try:
            with platform.engine.connect() as conn:
                return list(conn.execute(select(booking.c.id).where(booking.c.resource_id == resource)).scalars())
        finally:
            platform.engine.dispose()

    def resources_of_machine(self) -> list[int]:
        platform = open_platform(self.db)
        try:
            with platform.engine.connect() as conn:
                query = select(booking_resource.c.id).where(booking_resource.c.equipment_pk == self.machine)
                return list(conn.execute(query).scalars())
        finally:
            platform.engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, backends, tmp_path_factory) -> Iterator[Served]:
    require_backend(request.param)
    db = backends.fresh(request.param)
    platform = open_platform(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        host = node_host(platform)
        resources = [bookable(platform, host)["id"] for _ in range(2)]
        by_request = bookable(platform, host, mode="approval")["id"]
        members = [new_user(platform, f"m{number}", "member") for number in range(CLIENTS)]
        add_nodes(platform, [node_record(MACHINE_NODE, 37.4815, 126.8830, equipment=[{"type": "laser_cutter"}])])
        makers = [node_host(platform, f"maker{number}", slug=MACHINE_NODE) for number in range(MAKERS)]
    tokens = [accounts.create_token(platform, member, "race") for member in members]
    host_token = accounts.create_token(platform, host, "race")
    [machine] = bookable_machines(platform, makers[0], MACHINE_NODE)
    maker_tokens = [accounts.create_token(platform, maker, "race") for maker in makers]
    platform.engine.dispose()
    with serving(db, tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield Served(server.url, db, resources[0], by_request, tokens, host_token, machine["pk"], maker_tokens)
    backends.drop(db)


def _slot(resource: int, key: str) -> dict[str, object]:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    return {
        "resource": resource,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "idempotency_key": key,
    }


def _at_once(
    url: str, tokens: list[str], body: dict[str, object], path: str = "/api/v1/bookings"
) -> list[httpx.Response]:
    barrier = threading.Barrier(len(tokens), timeout=START_S)

    def attempt(token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=START_S, trust_env=False) as client:
            barrier.wait()
            return client.post(path, json=body)

    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(attempt, tokens))


def test_of_64_clients_booking_one_slot_at_once_exactly_one_wins(served):
    answers = _at_once(served.url, served.tokens, _slot(served.resource, "race"))
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * (CLIENTS - 1)
    assert len(served.bookings_of(served.resource)) == 1


def test_one_member_sending_the_same_key_at_once_gets_the_one_booking_every_time(served):
    resource = served.resource + 1
    answers = _at_once(served.url, [served.tokens[0]] * 16, _slot(resource, "twice"))
    assert [answer.status_code for answer in answers] == [201] * 16
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert len(served.bookings_of(resource)) == 1


def test_a_request_approved_and_declined_at_once_is_decided_once(served):
    """Both moves leave only from `requested`; the compare-and-swap lets exactly one of them happen."""
    member = {"Authorization": f"Bearer {served.tokens[1]}"}
    with httpx.Client(base_url=served.url, timeout=START_S, trust_env=False) as client:
        asked = client.post("/api/v1/bookings", json=_slot(served.by_request, "ask"), headers=member)
    assert asked.status_code == 201 and asked.json()["state"] == "requested"
    moves = [(served.host_token, "approve"), (served.host_token, "decline")]
    barrier = threading.Barrier(len(moves), timeout=START_S)

    def move(token_and_action: tuple[str, str]) -> httpx.Response:
        token, action = token_and_action
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=served.url, headers=headers, timeout=START_S, trust_env=False) as client:
            barrier.wait()
            return client.post(f"/api/v1/bookings/{asked.json()['id']}/{action}")

    with ThreadPoolExecutor(len(moves)) as pool:
        answers = list(pool.map(move, moves))
    assert sorted(answer.status_code for answer in answers) == [200, 409], [answer.text for answer in answers]
    [won] = [answer.json()["state"] for answer in answers if answer.status_code == 200]
    with httpx.Client(base_url=served.url, timeout=START_S, trust_env=False) as client:
        stored = client.get(f"/api/v1/bookings/{asked.json()['id']}", headers=member).json()["state"]
    assert stored == won


def test_hosts_making_one_listed_machine_bookable_at_once_make_one_resource(served):
    """The unique index on the machine (PostgreSQL) or the write lock (SQLite) lets one host through, across
    both server processes; the others are told which resource the machine already is, never a 500."""
    body = {"node": MACHINE_NODE, "equipment": served.machine}
    answers = _at_once(served.url, served.maker_tokens, body, "/api/v1/resources/from-machine")
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * (MAKERS - 1), [a.text for a in answers]
    [made] = [answer.json()["id"] for answer in answers if answer.status_code == 201]
    assert all(f"resource {made}" in answer.text for answer in answers if answer.status_code == 409)
    assert served.resources_of_machine() == [made]


def _posted(served: Served, token: str, path: str, body: dict[str, object]) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=START_S, trust_env=False) as client:
        answer = client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_pass_revoked_by_several_requests_at_once_is_revoked_once(served):
    """The revocation is a compare-and-swap on the pass: across both server processes one request revokes it,
    the others are told it already is, and the audit trail holds one revocation."""
    trainings = "/api/v1/nodes/fab-lab-seoul/trainings"
    training = _posted(served, served.host_token, trainings, {"name_ko": "레이저 안전교육"})
    passed = _posted(
        served, served.host_token, f"/api/v1/trainings/{training['id']}/holders",
        {"email": "m2@example.kr", "passed_on": "2026-11-02"},
    )  # fmt: skip
    body = {"reason": "안전 수칙 위반"}
    answers = _at_once(served.url, [served.host_token] * 8, body, f"/api/v1/qualifications/{passed['id']}/revoke")
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 7, [a.text for a in answers]
    platform = open_platform(served.db)
    try:
        with platform.engine.connect() as conn:
            trail = audit.history(conn, "qualification", str(passed["id"]))
    finally:
        platform.engine.dispose()
    assert [entry["action"] for entry in trail].count("qualification.revoke") == 1, trail


def test_a_calendar_feed_revoked_by_several_requests_at_once_is_revoked_once(served):
    """Revoking a feed moves it once: one request answers with the revoked feed, the others 409, none 500."""
    feed = _posted(served, served.tokens[3], "/api/v1/calendar-feeds", {})
    barrier = threading.Barrier(8, timeout=START_S)

    def revoke(_: int) -> httpx.Response:
        headers = {"Authorization": f"Bearer {served.tokens[3]}"}
        with httpx.Client(base_url=served.url, headers=headers, timeout=START_S, trust_env=False) as client:
            barrier.wait()
            return client.delete(f"/api/v1/calendar-feeds/{feed['id']}")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(revoke, range(8)))
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 7, [a.text for a in answers]
