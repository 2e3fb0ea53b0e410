"""Races through HTTP: real clients against `fabcity serve --workers 2`, on a fresh database of each backend.

The clients of a round start together at a barrier; every loop is bounded; nothing sleeps or is
timed. Marked `races`: they run in the normal `pytest` run (`pytest -m races` runs them alone).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from builders import new_user
from databases import BACKENDS, require_backend
from fabcity.accounts import service as accounts
from fabcity.startup import open_platform
from fabcity.storage.schema import node, node_claim, outbox
from servers import START_S, serving

pytestmark = pytest.mark.races

NODE = "fab-lab-seoul"
WRITERS = 16
PEOPLE = {"admin-a": "admin", "admin-b": "admin", "curator-a": "curator", "curator-b": "curator", "member": "member"}
T = TypeVar("T")


@dataclass(frozen=True)
class Served:
    """A running server, a bearer token and user id for each person in PEOPLE, and WRITERS nodes of their own."""

    url: str
    tokens: dict[str, str]
    user_ids: dict[str, int]
    writer_nodes: list[str]
    db: str

    def client(self, person: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[person]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=START_S, trust_env=False)


def _prepare(db: str) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """The people and the nodes the races use, written before the server starts."""
    platform = open_platform(db)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
            users = {name: new_user(platform, name, role) for name, role in PEOPLE.items()}
        tokens = {name: accounts.create_token(platform, user, "races") for name, user in users.items()}
        with platform.engine.connect() as conn:
            query = select(node.c.slug).where(node.c.slug != NODE).order_by(node.c.pk).limit(WRITERS)
            nodes = list(conn.execute(query).scalars())
    finally:
        platform.engine.dispose()
    return tokens, {name: user.id for name, user in users.items()}, nodes


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, backends, tmp_path_factory) -> Iterator[Served]:
    """`fabcity serve --workers 2` on a fresh copy of the embedded dataset, once both workers answer."""
    require_backend(request.param)
    db = backends.fresh(request.param)
    tokens, user_ids, nodes = _prepare(db)
    with serving(db, tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield Served(server.url, tokens, user_ids, nodes, db)


def _at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Each call on its own thread, all released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls), timeout=START_S)

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _latest_by_field(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Each field's value after the audit trail's changes; each change must start where the last one ended."""
    latest: dict[str, Any] = {}
    for entry in history:
        for field, (before, after) in entry["changes"].items():
            assert field not in latest or latest[field] == before, (entry, latest[field])
            latest[field] = after
    return latest


def test_concurrent_patches_of_different_fields_both_land_and_the_trail_agrees(served) -> None:
    path = f"/api/v1/nodes/{NODE}"
    with served.client("curator-a") as first, served.client("curator-b") as second:
        clients = (first, second)
        for round_number in range(20):
            patches = ({"operator": f"운영자 {round_number}"}, {"description": {"en": f"Round {round_number}"}})
            answers = _at_once([partial(c.patch, path, json=p) for c, p in zip(clients, patches, strict=True)])
            assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
            stored = first.get(path).json()
            assert (stored["operator"], stored["description"]["en"]) == (
                patches[0]["operator"],
                patches[1]["description"]["en"],
            )
        trail = _latest_by_field(first.get(f"{path}/history").json()["results"])
        assert (trail["operator"], trail["description.en"]) == (stored["operator"], stored["description"]["en"])


def test_with_one_if_match_exactly_one_of_two_patches_wins(served) -> None:
    path = f"/api/v1/nodes/{NODE}"
    with served.client("curator-a") as first, served.client("curator-b") as second:
        clients = (first, second)
        for round_number in range(10):
            etag = first.get(path).headers["etag"]
            values = (f"A{round_number}", f"B{round_number}")
            answers = _at_once(
                [
                    partial(client.patch, path, json={"operator": value}, headers={"If-Match": etag})
                    for client, value in zip(clients, values, strict=True)
                ]
            )
            codes = [answer.status_code for answer in answers]
            assert sorted(codes) == [200, 412], [answer.text for answer in answers]
            assert "read it again" in answers[codes.index(412)].json()["detail"]
            assert first.get(path).json()["operator"] == values[codes.index(200)]


def test_writers_of_different_nodes_all_succeed(served) -> None:
    """Every write of a node also writes one shared change stamp: it must not make writers collide."""
    clients = [served.client("curator-a") for _ in range(WRITERS)]
    requests = 8

    def write(index: int) -> list[int | str]:
        outcomes: list[int | str] = []
        for number in range(requests):
            patch = {"operator": f"작성자 {index}-{number}"}
            try:
                outcomes.append(
                    clients[index].patch(f"/api/v1/nodes/{served.writer_nodes[index]}", json=patch).status_code
                )
            except httpx.TransportError as error:  # a reset or a dropped connection
                outcomes.append(type(error).__name__)
        return outcomes

    try:
        outcomes = _at_once([partial(write, index) for index in range(WRITERS)])
        assert [o for outcome in outcomes for o in outcome if o != 200] == []
        for index, slug in enumerate(served.writer_nodes):
            assert clients[0].get(f"/api/v1/nodes/{slug}").json()["operator"] == f"작성자 {index}-{requests - 1}"
    finally:
        for client in clients:
            client.close()


def test_two_admins_demoting_each_other_leave_one_admin(served) -> None:
    names = ("admin-a", "admin-b")
    ids = [served.user_ids[name] for name in names]
    with served.client(names[0]) as first, served.client(names[1]) as second:
        admins = (first, second)
        for _ in range(15):
            answers = _at_once(
                [partial(admin.put, f"/api/v1/users/{other}/role", json={"role": "member"})
                 for admin, other in zip(admins, reversed(ids), strict=True)]
            )  # fmt: skip
            codes = [answer.status_code for answer in answers]
            assert codes.count(200) == 1, [answer.text for answer in answers]
            winner, loser = codes.index(200), 1 - codes.index(200)
            assert codes[loser] in (403, 409, 422) and answers[loser].json()["detail"], answers[loser].text
            users = admins[winner].get("/api/v1/users").json()["results"]
            assert [user["id"] for user in users if user["role"] == "admin"] == [ids[winner]]
            restored = admins[winner].put(f"/api/v1/users/{ids[loser]}/role", json={"role": "admin"})
            assert restored.status_code == 200


def test_two_creates_naming_one_new_external_id_make_one_node(served) -> None:
    with served.client("curator-a") as first, served.client("curator-b") as second:
        clients = (first, second)
        for round_number in range(8):
            bodies = [
                {"name": {"en": f"Twin {round_number} {i}"}, "node_type": "studio",
                 "external_ids": {"fablabs_io": f"twin-{round_number}"}}
                for i in range(2)
            ]  # fmt: skip
            answers = _at_once([partial(c.post, "/api/v1/nodes", json=b) for c, b in zip(clients, bodies, strict=True)])
            codes = [answer.status_code for answer in answers]
            assert sorted(codes) == [201, 409], [answer.text for answer in answers]
            assert answers[codes.index(409)].json()["detail"].startswith("external_ids")


def test_two_creates_of_one_name_get_two_slugs_or_a_conflict(served) -> None:
    """Both want the slug the name gives: the unique slug lets one through; the other gets the next or a 409."""
    with served.client("curator-a") as first, served.client("curator-b") as second:
        for round_number in range(8):
            body = {"name": {"en": f"Same name {round_number}"}, "node_type": "studio"}
            answers = _at_once([partial(client.post, "/api/v1/nodes", json=body) for client in (first, second)])
            codes = sorted(answer.status_code for answer in answers)
            assert codes in ([201, 201], [201, 409]), [answer.text for answer in answers]
            slugs = {answer.json()["slug"] for answer in answers if answer.status_code == 201}
            assert len(slugs) == codes.count(201) and f"same-name-{round_number}" in slugs
            if codes == [201, 409]:
                assert next(a for a in answers if a.status_code == 409).json()["detail"].startswith("slug: ")


def test_two_claims_of_one_person_on_one_place_make_one(served) -> None:
    """A double press that reaches both workers: the partial unique index lets one claim in."""
    with served.client("member") as first, served.client("member") as second:
        for slug in served.writer_nodes[:6]:
            body = {"message": "제가 운영합니다"}
            answers = _at_once([partial(c.post, f"/api/v1/nodes/{slug}/claims", json=body) for c in (first, second)])
            codes = sorted(answer.status_code for answer in answers)
            assert codes == [201, 409], [answer.text for answer in answers]


def test_two_curators_deciding_one_claim_decide_it_once(served) -> None:
    with served.client("member") as member, served.client("curator-a") as first, served.client("curator-b") as second:
        for slug in served.writer_nodes[6:12]:
            claim = member.post(f"/api/v1/nodes/{slug}/claims", json={"message": "운영합니다"}).json()
            paths = [f"/api/v1/claims/{claim['id']}/{decision}" for decision in ("approve", "reject")]
            answers = _at_once([partial(c.post, path) for c, path in zip((first, second), paths, strict=True)])
            codes = [answer.status_code for answer in answers]
            assert sorted(codes) == [200, 409], [answer.text for answer in answers]
            winner = answers[codes.index(200)].json()["status"]
            platform = open_platform(served.db)
            try:
                with platform.engine.connect() as conn:
                    stored = conn.execute(select(node_claim.c.status).where(node_claim.c.id == claim["id"])).scalar()
                    told = conn.execute(select(func.count()).select_from(outbox)).scalar()
            finally:
                platform.engine.dispose()
            assert stored == winner and told >= 1


def _reset_token(db: str, name: str) -> tuple[str, str]:
    """A new person's e-mail and the reset token the e-mail they were sent carries."""
    platform = open_platform(db)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
            user = new_user(platform, name, "member")
        accounts.request_reset(platform, user.email, "203.0.113.40", "http://127.0.0.1")
        with platform.engine.connect() as conn:
            body = conn.execute(select(outbox.c.body).where(outbox.c.recipient == user.email)).scalar_one()
    finally:
        platform.engine.dispose()
    return user.email, re.search(r"/reset/(\S+)", body).group(1)


def test_two_resets_with_one_link_change_the_password_once(served) -> None:
    for round_number in range(4):
        email, token = _reset_token(served.db, f"forgetful-{round_number}")
        browsers = [httpx.Client(base_url=served.url, timeout=START_S, trust_env=False) for _ in range(2)]
        try:
            forms = [
                {"password": f"{word} lantern meadow {round_number}",
                 "csrf": re.search(r'name="csrf" value="([^"]+)"', b.get(f"/reset/{token}").text).group(1)}
                for b, word in zip(browsers, ("copper", "walnut"), strict=True)
            ]  # fmt: skip
            posts = [partial(b.post, f"/reset/{token}", data=f) for b, f in zip(browsers, forms, strict=True)]
            answers = _at_once(posts)
        finally:
            for browser in browsers:
                browser.close()
        codes = [answer.status_code for answer in answers]
        assert sorted(codes) == [303, 409], [answer.text[:200] for answer in answers]
        winner, loser = forms[codes.index(303)]["password"], forms[codes.index(409)]["password"]
        with httpx.Client(base_url=served.url, timeout=START_S, trust_env=False) as check:
            assert check.post("/api/v1/session", json={"email": email, "password": loser}).status_code == 401
            assert check.post("/api/v1/session", json={"email": email, "password": winner}).status_code == 200
