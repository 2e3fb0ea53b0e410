"""Signing in and signing up raced by real clients against `fabcity serve --workers 2`, on both backends.

The limits count in the database, so requests that arrive together at two worker processes must
still get only the tries the limits allow. The server believes X-Forwarded-For from 127.0.0.2
only (FABCITY_TRUSTED_PROXIES): a test speaks through that "proxy" to act from an address of its
own, or from 127.0.0.1 as a client that is no proxy.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from databases import BACKENDS, require_backend
from fabcity.accounts import limits
from fabcity.settings import TRUSTED_PROXIES
from servers import START_S, serving

PROXY = "127.0.0.2"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    body: dict


@dataclass(frozen=True)
class Server:
    port: int

    def connect(self, source: str = "127.0.0.1") -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=START_S, source_address=(source, 0))
        connection.connect()
        return connection

    def post(
        self,
        path: str,
        body: dict,
        forwarded_for: str | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> Answer:
        """POST JSON; with `forwarded_for`, through the trusted proxy for that client address."""
        connection = connection or self.connect(PROXY if forwarded_for else "127.0.0.1")
        headers = {"Content-Type": "application/json"}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        try:
            connection.request("POST", path, json.dumps(body), headers)
            response = connection.getresponse()
            return Answer(response.status, response.getheader("Retry-After"), json.loads(response.read() or b"{}"))
        finally:
            connection.close()


def _at_once(
    server: Server, count: int, source: str, send: Callable[[int, http.client.HTTPConnection], Answer]
) -> list[Answer]:
    """`count` requests, each on a connection opened beforehand, sent together once all are open."""
    ready = threading.Barrier(count)

    def one(number: int) -> Answer:
        connection = server.connect(source)
        ready.wait()
        return send(number, connection)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, backends, tmp_path_factory) -> Iterator[Server]:
    """`fabcity serve --workers 2` on a fresh database of the backend, once both workers answer."""
    require_backend(request.param)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(backends.fresh(request.param), log, env={**os.environ, TRUSTED_PROXIES.name: PROXY}) as served:
        yield Server(served.port)


def test_racing_guesses_get_only_the_free_tries_and_the_owner_still_signs_in(server):
    """Counted before the password is checked, so guesses arriving together cannot all pass the count."""
    guesser, owner = "203.0.113.10", "203.0.113.11"
    credentials = {"email": "racer@example.kr", "password": PASSWORD}
    assert (
        server.post(
            "/api/v1/users", {**credentials, "display_name": "레이서", "consent": True}, forwarded_for=owner
        ).status
        == 201
    )

    def guess(_number: int, connection: http.client.HTTPConnection) -> Answer:
        wrong = {**credentials, "password": "not the password"}
        return server.post("/api/v1/session", wrong, forwarded_for=guesser, connection=connection)

    answers = _at_once(server, 16, PROXY, guess)
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [401] * limits.SIGN_IN_PAIR.free + [429] * (16 - limits.SIGN_IN_PAIR.free)
    assert all(answer.retry_after for answer in answers if answer.status == 429)
    assert server.post("/api/v1/session", credentials, forwarded_for=owner).status == 200


def test_racing_sign_ups_of_one_e_mail_make_one_account(server):
    """The unique e-mail decides; the others are told it exists (a 500 before)."""
    body = {"email": "twin@example.kr", "password": PASSWORD, "display_name": "쌍둥이", "consent": True}

    def sign_up(_number: int, connection: http.client.HTTPConnection) -> Answer:
        return server.post("/api/v1/users", body, forwarded_for="203.0.113.20", connection=connection)

    answers = _at_once(server, 8, PROXY, sign_up)
    assert sorted(answer.status for answer in answers) == [201] + [422] * 7
    assert {answer.body["detail"][0]["loc"][1] for answer in answers if answer.status == 422} == {"email"}


def test_racing_sign_ups_from_one_address_stop_at_the_limit(server):
    free = limits.SIGN_UP_ADDRESS.free

    def sign_up(number: int, connection: http.client.HTTPConnection) -> Answer:
        body = {"email": f"crowd{number}@example.kr", "password": PASSWORD, "display_name": "무리", "consent": True}
        return server.post("/api/v1/users", body, forwarded_for="203.0.113.30", connection=connection)

    answers = _at_once(server, free + 4, PROXY, sign_up)
    assert sorted(answer.status for answer in answers) == [201] * free + [429] * 4
    assert all(answer.retry_after for answer in answers if answer.status == 429)


def test_x_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(server):
    """A new claimed address on every try used to escape the limits: uvicorn believed any loopback client."""
    free = limits.SIGN_IN_ADDRESS.free
    statuses = []
    for number in range(free + 1):
        connection = server.connect("127.0.0.1")
        connection.request(
            "POST",
            "/api/v1/session",
            json.dumps({"email": f"nobody{number}@example.kr", "password": "a guess"}),
            {"Content-Type": "application/json", "X-Forwarded-For": f"192.0.2.{number}"},
        )
        statuses.append(connection.getresponse().status)
        connection.close()
    assert statuses == [401] * free + [429]
