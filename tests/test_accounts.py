"""Accounts and roles through the HTTP API: the role × action table, sessions, CSRF, tokens, the audit trail,
and what keeps signing in and signing up from abuse: limits, password strength, bounded fields."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from builders import PASSWORD, count_rows, new_user
from fabcity.accounts import limits
from fabcity.accounts import service as accounts
from fabcity.errors import TooManyAttempts
from fabcity.settings import Settings, networks
from fabcity.storage.schema import api_token, attempt_limit, user_account, web_session
from fabcity.web.app import create_app
from fabcity.web.auth import FORM_CSRF_COOKIE, SESSION_COOKIE

NODE = "fab-lab-seoul"
OTHER_NODE = "seoul-innovation-fab-lab"


def _grant_host(platform, user: accounts.User, node_slug: str, curator: accounts.User) -> None:
    from fabcity.directory import editing

    claim = editing.claim_node(platform, user, node_slug, "I run this place")
    editing.decide_claim(platform, curator, claim["id"], approve=True)


@pytest.fixture
def people(platform):
    """A token for each role in the table (None for anonymous), and the member's id."""
    curator = new_user(platform, "curator", "curator")
    host_here, host_there = new_user(platform, "host-here", "member"), new_user(platform, "host-there", "member")
    _grant_host(platform, host_here, NODE, curator)
    _grant_host(platform, host_there, OTHER_NODE, curator)
    member = new_user(platform, "member", "member")
    admin = new_user(platform, "admin", "admin")
    tokens = {"anonymous": None}
    for label, user in (
        ("member", member), ("host of this node", host_here), ("host of another node", host_there),
        ("curator", curator), ("admin", admin),
    ):  # fmt: skip
        tokens[label] = accounts.create_token(platform, accounts.User(user.id, user.email, user.display_name, ""), "t")
    return tokens, member.id


def _new_node(label: str) -> dict:
    return {"name": {"ko": f"{label} 공방"}, "node_type": "makerspace", "location": {"lat": 37.6189, "lon": 126.921}}


ACTIONS = ("view", "create", "edit", "verify", "close", "change role")
EXPECTED = {
    "anonymous": (200, 401, 401, 401, 401, 401),
    "member": (200, 403, 403, 403, 403, 403),
    "host of this node": (200, 201, 200, 403, 200, 403),
    "host of another node": (200, 201, 403, 403, 403, 403),
    "curator": (200, 201, 200, 200, 200, 403),
    "admin": (200, 201, 200, 200, 200, 200),
}


def test_every_role_and_action_is_checked_on_the_server(client, people):
    tokens, member_id = people
    found = {}
    for label, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        found[label] = (
            client.get(f"/api/v1/nodes/{NODE}", headers=headers).status_code,
            client.post("/api/v1/nodes", json=_new_node(label), headers=headers).status_code,
            client.patch(
                f"/api/v1/nodes/{NODE}", json={"opening_hours": "Mo-Fr 10:00-18:00"}, headers=headers
            ).status_code,
            client.post(f"/api/v1/nodes/{NODE}/verify", headers=headers).status_code,
            client.delete(f"/api/v1/nodes/{NODE}", headers=headers).status_code,
            client.put(f"/api/v1/users/{member_id}/role", json={"role": "member"}, headers=headers).status_code,
        )
    assert found == EXPECTED


def test_a_refused_edit_changes_nothing(client, people):
    tokens, _ = people
    before = client.get(f"/api/v1/nodes/{NODE}").json()
    headers = {"Authorization": f"Bearer {tokens['host of another node']}"}
    assert client.patch(f"/api/v1/nodes/{NODE}", json={"name": {"ko": "바뀐 이름"}}, headers=headers).status_code == 403
    assert client.get(f"/api/v1/nodes/{NODE}").json() == before


def test_closing_keeps_the_node_marked_closed(client, people):
    tokens, _ = people
    response = client.delete(f"/api/v1/nodes/{NODE}", headers={"Authorization": f"Bearer {tokens['curator']}"})
    assert response.json()["status"] == "closed"
    assert client.get(f"/api/v1/nodes/{NODE}").json()["status"] == "closed"
    assert NODE not in [r["slug"] for r in client.get("/api/v1/nodes", params={"limit": 1000}).json()["results"]]
    closed = client.get("/api/v1/nodes", params={"status": "closed"}).json()["results"]
    assert [r["slug"] for r in closed] == [NODE]


def test_a_host_cannot_verify_by_editing_the_provenance(client, people):
    tokens, _ = people
    headers = {"Authorization": f"Bearer {tokens['host of this node']}"}
    patch = {"provenance": {"verified_at": "2026-11-01T00:00:00Z", "verified_by": "me"}}
    response = client.patch(f"/api/v1/nodes/{NODE}", json=patch, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "provenance", "verified_at"]


def test_verification_stamps_the_date_and_the_curator(client, people):
    tokens, _ = people
    response = client.post(f"/api/v1/nodes/{NODE}/verify", headers={"Authorization": f"Bearer {tokens['curator']}"})
    provenance = response.json()["provenance"]
    assert provenance["verified_by"] == "curator" and provenance["verified_at"].startswith("20")


def test_every_write_is_in_the_audit_trail(client, people):
    tokens, _ = people
    host = {"Authorization": f"Bearer {tokens['host of this node']}"}
    client.patch(f"/api/v1/nodes/{NODE}", json={"opening_hours": "Tu-Sa 11:00-19:00"}, headers=host)
    client.post(f"/api/v1/nodes/{NODE}/verify", headers={"Authorization": f"Bearer {tokens['curator']}"})
    assert client.get(f"/api/v1/nodes/{NODE}/history", headers=host).status_code == 403
    history = client.get(f"/api/v1/nodes/{NODE}/history", headers={"Authorization": f"Bearer {tokens['admin']}"})
    entries = history.json()["results"]
    assert [e["action"] for e in entries] == ["node.update", "node.verify"]
    assert entries[0]["changes"]["opening_hours"][1] == "Tu-Sa 11:00-19:00"
    assert entries[0]["user_id"] != entries[1]["user_id"]


def test_a_claim_approved_by_a_curator_makes_a_member_the_host(client, platform):
    curator = new_user(platform, "curator", "curator")
    new_user(platform, "maker", "member")
    session = client.post("/api/v1/session", json={"email": "maker@example.kr", "password": PASSWORD}).json()
    csrf = {"X-CSRF-Token": session["csrf_token"]}
    assert client.patch(f"/api/v1/nodes/{NODE}", json={"operator": "나"}, headers=csrf).status_code == 403
    claim = client.post(f"/api/v1/nodes/{NODE}/claims", json={"message": "제가 운영합니다"}, headers=csrf).json()
    curator_token = accounts.create_token(platform, curator, "review")
    approve = client.post(f"/api/v1/claims/{claim['id']}/approve", headers={"Authorization": f"Bearer {curator_token}"})
    assert approve.json()["status"] == "approved"
    assert client.get("/api/v1/me").json()["role"] == "host"
    assert client.patch(f"/api/v1/nodes/{NODE}", json={"operator": "나"}, headers=csrf).json()["operator"] == "나"


def test_a_session_cookie_write_needs_the_csrf_token(client, platform):
    new_user(platform, "curator", "curator")
    session = client.post("/api/v1/session", json={"email": "CURATOR@example.kr", "password": PASSWORD})
    assert session.status_code == 200
    assert client.get("/api/v1/me").json()["role"] == "curator"
    assert client.post(f"/api/v1/nodes/{NODE}/verify").status_code == 403
    assert client.post(f"/api/v1/nodes/{NODE}/verify", headers={"X-CSRF-Token": "guess"}).status_code == 403
    ok = client.post(f"/api/v1/nodes/{NODE}/verify", headers={"X-CSRF-Token": session.json()["csrf_token"]})
    assert ok.status_code == 200
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": session.json()["csrf_token"]}).status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_log_in_attempts_are_rate_limited(client, platform):
    new_user(platform, "maker", "member")
    for _ in range(limits.SIGN_IN_PAIR.free):
        assert (
            client.post("/api/v1/session", json={"email": "maker@example.kr", "password": "wrong"}).status_code == 401
        )
    response = client.post("/api/v1/session", json={"email": "maker@example.kr", "password": PASSWORD})
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60


class Clock:
    """The accounts service's clock, moved on by hand: the limits' windows pass without waiting."""

    def __init__(self, monkeypatch) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        monkeypatch.setattr(accounts, "_now", lambda: self.now)

    def wait(self, **duration: float) -> None:
        self.now += timedelta(**duration)


def _sign_in(platform, email: str, password: str, client: str) -> str:
    """What a try comes to: "in", "wrong" or "wait"."""
    try:
        return "in" if accounts.authenticate(platform, email, password, client) else "wrong"
    except TooManyAttempts:
        return "wait"


def test_the_owner_signs_in_from_elsewhere_while_someone_else_guesses(platform):
    new_user(platform, "maker", "member")
    guesses = [_sign_in(platform, "maker@example.kr", "guess", "198.51.100.66") for _ in range(7)]
    assert guesses == ["wrong"] * limits.SIGN_IN_PAIR.free + ["wait", "wait"]
    assert _sign_in(platform, "maker@example.kr", PASSWORD, "203.0.113.5") == "in"


def test_guessing_from_many_addresses_cannot_lock_out_an_owner_who_signed_in_from_here(platform):
    new_user(platform, "maker", "member")
    assert _sign_in(platform, "maker@example.kr", PASSWORD, "203.0.113.5") == "in"
    guesses = [_sign_in(platform, "maker@example.kr", "guess", f"198.51.100.{n}") for n in range(25)]
    free = limits.SIGN_IN_EMAIL.free
    assert guesses == ["wrong"] * free + ["wait"] * (25 - free)  # the e-mail's limit, for addresses it never used
    assert _sign_in(platform, "maker@example.kr", PASSWORD, "198.51.100.99") == "wait"
    assert _sign_in(platform, "maker@example.kr", PASSWORD, "203.0.113.5") == "in"


def test_a_success_starts_the_count_over(platform):
    new_user(platform, "maker", "member")
    for _ in range(3):
        tries = [_sign_in(platform, "maker@example.kr", "typo", "203.0.113.5") for _ in range(4)]
        assert tries == ["wrong"] * 4
        assert _sign_in(platform, "maker@example.kr", PASSWORD, "203.0.113.5") == "in"


def test_each_guess_past_the_free_ones_waits_twice_as_long_up_to_an_hour(platform, monkeypatch):
    clock = Clock(monkeypatch)
    new_user(platform, "maker", "member")
    for _ in range(limits.SIGN_IN_PAIR.free):
        assert _sign_in(platform, "maker@example.kr", "guess", "198.51.100.66") == "wrong"
    for minutes in (1, 2, 4, 8, 16, 32, 60, 60):
        clock.wait(minutes=minutes, seconds=-1)
        assert _sign_in(platform, "maker@example.kr", PASSWORD, "198.51.100.66") == "wait"
        clock.wait(seconds=1)
        assert _sign_in(platform, "maker@example.kr", "guess", "198.51.100.66") == "wrong"


def test_one_address_failing_does_not_lock_out_the_members_who_signed_in_from_it(platform, monkeypatch):
    """A fab lab's members share its address: someone there failing 30 times keeps out only newcomers."""
    clock = Clock(monkeypatch)
    new_user(platform, "maker", "member")
    new_user(platform, "newcomer", "member")
    lab = "203.0.113.80"
    assert _sign_in(platform, "maker@example.kr", PASSWORD, lab) == "in"
    free = limits.SIGN_IN_ADDRESS.free
    tries = [_sign_in(platform, f"nobody{n}@example.kr", "guess", lab) for n in range(free + 1)]
    assert tries == ["wrong"] * free + ["wait"]
    assert _sign_in(platform, "maker@example.kr", PASSWORD, lab) == "in"
    assert _sign_in(platform, "newcomer@example.kr", PASSWORD, lab) == "wait"
    clock.wait(minutes=15)
    assert _sign_in(platform, "newcomer@example.kr", PASSWORD, lab) == "in"


def test_an_addresss_count_starts_over_each_window_and_limits_again(platform, monkeypatch):
    clock = Clock(monkeypatch)
    lab = "203.0.113.80"
    free = limits.SIGN_IN_ADDRESS.free
    for _window in range(2):
        tries = [_sign_in(platform, f"nobody{n}@example.kr", "guess", lab) for n in range(free + 1)]
        assert tries == ["wrong"] * free + ["wait"]
        clock.wait(minutes=15)


def test_signing_up_and_signing_in_from_one_address_are_counted_apart(client, platform):
    new_user(platform, "maker", "member")
    for n in range(limits.SIGN_UP_ADDRESS.free):
        body = {"email": f"new{n}@example.kr", "password": PASSWORD, "display_name": "메이커", "consent": True}
        assert client.post("/api/v1/users", json=body).status_code == 201
    assert client.post("/api/v1/session", json={"email": "maker@example.kr", "password": PASSWORD}).status_code == 200


def test_a_failed_try_does_not_make_an_address_known_to_the_e_mail(platform):
    """Only a success lets an address escape the e-mail's limit: two guesses from each of many addresses are counted."""
    new_user(platform, "maker", "member")
    guesses = [_sign_in(platform, "maker@example.kr", "guess", f"198.51.100.{n}") for n in range(15) for _ in range(2)]
    free = limits.SIGN_IN_EMAIL.free
    assert guesses == ["wrong"] * free + ["wait"] * (30 - free)


def test_an_address_is_known_to_an_e_mail_for_thirty_days_only(platform, monkeypatch):
    """Past 30 days since its last sign-in there, a member at a shared address is limited like a newcomer."""
    clock = Clock(monkeypatch)
    new_user(platform, "maker", "member")
    lab = "203.0.113.80"
    assert _sign_in(platform, "maker@example.kr", PASSWORD, lab) == "in"
    clock.wait(days=30, seconds=1)
    free = limits.SIGN_IN_ADDRESS.free
    assert [_sign_in(platform, f"nobody{n}@example.kr", "guess", lab) for n in range(free)] == ["wrong"] * free
    assert _sign_in(platform, "maker@example.kr", PASSWORD, lab) == "wait"


def test_someone_elses_sign_in_elsewhere_leaves_an_addresss_count_alone(platform):
    """A guesser cannot wipe or lower the count of their address by signing in to an account of their own."""
    new_user(platform, "maker", "member")
    guesser = "198.51.100.66"
    free = limits.SIGN_IN_ADDRESS.free
    assert [_sign_in(platform, f"nobody{n}@example.kr", "guess", guesser) for n in range(free - 1)] == ["wrong"] * (
        free - 1
    )
    assert _sign_in(platform, "maker@example.kr", PASSWORD, "203.0.113.5") == "in"
    assert [_sign_in(platform, f"other{n}@example.kr", "guess", guesser) for n in range(2)] == ["wrong", "wait"]


def test_a_sign_in_that_used_the_last_free_try_leaves_the_next_one_free(platform):
    """A success gives its try back, and with it the wait its try had started."""
    new_user(platform, "maker", "member")
    new_user(platform, "newcomer", "member")
    lab = "203.0.113.80"
    free = limits.SIGN_IN_ADDRESS.free
    assert [_sign_in(platform, f"nobody{n}@example.kr", "guess", lab) for n in range(free - 1)] == ["wrong"] * (
        free - 1
    )
    assert _sign_in(platform, "maker@example.kr", PASSWORD, lab) == "in"
    assert _sign_in(platform, "newcomer@example.kr", PASSWORD, lab) == "in"


def test_a_sign_in_drops_the_counts_no_limit_needs_any_more(platform, monkeypatch):
    """Counters outlive no window: a day-old one whose wait is over goes at the next success, a fresh one stays."""
    clock = Clock(monkeypatch)
    new_user(platform, "maker", "member")
    free = limits.SIGN_IN_PAIR.free
    assert [_sign_in(platform, "nobody@example.kr", "guess", "198.51.100.1") for _ in range(free)] == ["wrong"] * free
    clock.wait(hours=24, seconds=1)
    assert _sign_in(platform, "someone@example.kr", "guess", "198.51.100.2") == "wrong"
    assert _sign_in(platform, "maker@example.kr", PASSWORD, "203.0.113.5") == "in"
    with platform.engine.connect() as conn:
        subjects = set(conn.execute(select(attempt_limit.c.subject)).scalars())
    assert not subjects & {"nobody@example.kr", "198.51.100.1", "nobody@example.kr 198.51.100.1"}
    assert {"someone@example.kr", "198.51.100.2", "someone@example.kr 198.51.100.2"} <= subjects


def test_a_day_old_count_whose_wait_still_holds_is_kept(platform, monkeypatch):
    """The pair's window is a day but its last wait may end after it: a success elsewhere must not lift that wait."""
    clock = Clock(monkeypatch)
    new_user(platform, "maker", "member")
    new_user(platform, "other", "member")
    guesser = "198.51.100.66"
    free = limits.SIGN_IN_PAIR.free
    assert [_sign_in(platform, "maker@example.kr", "guess", guesser) for _ in range(free)] == ["wrong"] * free
    clock.wait(hours=23, minutes=59)
    assert _sign_in(platform, "maker@example.kr", "guess", guesser) == "wrong"  # waits 2 minutes, into the next day
    clock.wait(minutes=1, seconds=30)
    assert _sign_in(platform, "other@example.kr", PASSWORD, "203.0.113.5") == "in"
    assert _sign_in(platform, "maker@example.kr", "guess", guesser) == "wait"


class CountingHasher(PasswordHasher):
    """The cheap test hasher, keeping every hash a password was checked against."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.checked: list[str] = []

    def verify(self, stored: str | bytes, password: str | bytes) -> bool:
        self.checked.append(stored if isinstance(stored, str) else stored.decode())
        return super().verify(stored, password)


def test_an_unknown_e_mail_costs_the_same_password_check_as_a_known_one(client, platform, monkeypatch):
    """The time of the answer must not tell whether an account exists: both check one hash of equal cost."""
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    new_user(platform, "maker", "member")
    for email in ("maker@example.kr", "nobody@example.kr"):
        assert client.post("/api/v1/session", json={"email": email, "password": "guess"}).status_code == 401
    known, unknown = hasher.checked
    assert known != unknown and known.rsplit("$", 2)[0] == unknown.rsplit("$", 2)[0]  # same algorithm and cost


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaa", "1234567890", " " * 10, "password123!", "maker@example.kr", "Xq7!" * 256 + "z"]
)
def test_weak_or_huge_passwords_are_refused(client, password):
    response = client.post(
        "/api/v1/users",
        json={"email": "maker@example.kr", "password": password, "display_name": "메이커", "consent": True},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "password"]
    assert len(response.content) < 1000  # the password is never echoed back


def test_a_huge_password_is_refused_before_hashing(client, platform, monkeypatch):
    hasher = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", hasher)
    new_user(platform, "maker", "member")
    response = client.post("/api/v1/session", json={"email": "maker@example.kr", "password": "x" * 20_000})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "password"]
    assert hasher.checked == [] and len(response.content) < 1000


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/session", {"email": "maker\u0000@example.kr", "password": PASSWORD}, "email"),
        (
            "/api/v1/users",
            {"email": "maker@example.kr", "password": PASSWORD, "display_name": "메\u0000이커", "consent": True},
            "display_name",
        ),
        (
            "/api/v1/users",
            {"email": "ma\u0007ker@example.kr", "password": PASSWORD, "display_name": "메이커", "consent": True},
            "email",
        ),
        (
            "/api/v1/users",
            {"email": "maker@example.kr", "password": PASSWORD, "display_name": "메" * 101, "consent": True},
            "display_name",
        ),
        (
            "/api/v1/users",
            {"email": "m" * 300 + "@example.kr", "password": PASSWORD, "display_name": "메이커", "consent": True},
            "email",
        ),
        ("/api/v1/session", {"email": "m" * 300 + "@example.kr", "password": PASSWORD}, "email"),
    ],
)
def test_control_characters_and_overlong_fields_are_refused_by_name(client, path, body, field):
    """A NUL used to reach PostgreSQL, which refuses it: a 500."""
    response = client.post(path, json=body)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", field]
    assert len(response.content) < 1000


def test_a_token_name_with_a_control_character_is_refused(client, platform):
    new_user(platform, "maker", "member")
    login = client.post("/api/v1/session", json={"email": "maker@example.kr", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    for name in ("script\u0000", "s" * 101):
        response = client.post("/api/v1/tokens", json={"name": name}, headers=csrf)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "name"]


def test_sign_ups_from_one_address_are_limited(client):
    free = limits.SIGN_UP_ADDRESS.free
    statuses = [
        client.post(
            "/api/v1/users",
            json={"email": f"maker{n}@example.kr", "password": PASSWORD, "display_name": "메이커", "consent": True},
        )
        for n in range(free + 1)
    ]
    assert [s.status_code for s in statuses] == [201] * free + [429]
    retry_after = int(statuses[-1].headers["Retry-After"])
    assert 0 < retry_after <= 3600
    minutes = -(-retry_after // 60)
    assert statuses[-1].json()["detail"].endswith(f"try again in {minutes} minute{'s' if minutes > 1 else ''}")


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(platform):
    """Behind the proxy each client has its own limit; a client that is not the proxy cannot claim one."""
    settings = Settings(database="", trusted_proxies=networks("10.0.0.0/8"))
    app = create_app(platform, settings)
    free = limits.SIGN_UP_ADDRESS.free
    numbers = itertools.count()

    def sign_ups(peer: str, forwarded: list[str]) -> list[int]:
        with TestClient(app, client=(peer, 40000)) as client:
            return [
                client.post(
                    "/api/v1/users",
                    json={
                        "email": f"maker{next(numbers)}@example.kr",
                        "password": PASSWORD,
                        "display_name": "메이커",
                        "consent": True,
                    },
                    headers={"X-Forwarded-For": address},
                ).status_code
                for address in forwarded
            ]

    # the proxy forwards a client's own claim too; what the proxy itself saw is the right-most hop
    via_proxy = sign_ups("10.0.0.5", [f"192.0.2.{n}, 198.51.100.7" for n in range(free + 1)])
    assert via_proxy == [201] * free + [429]
    assert sign_ups("10.0.0.5", ["198.51.100.8"]) == [201]
    rotating = sign_ups("203.0.113.9", [f"192.0.2.{n}" for n in range(free + 1)])
    assert rotating == [201] * free + [429]


def test_secrets_are_stored_only_as_hashes(client, platform):
    new_user(platform, "maker", "member")
    login = client.post("/api/v1/session", json={"email": "maker@example.kr", "password": PASSWORD})
    token = client.post("/api/v1/tokens", json={"name": "script"}, headers={"X-CSRF-Token": login.json()["csrf_token"]})
    secret = token.json()["token"]
    with platform.engine.connect() as conn:
        stored = conn.execute(select(user_account.c.password_hash)).scalars().all()
        assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
        assert secret not in conn.execute(select(api_token.c.token_hash)).scalars().all()
        cookie = client.cookies.get("fabcity_session")
        assert cookie and cookie not in conn.execute(select(web_session.c.token_hash)).scalars().all()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["email"] == "maker@example.kr"


def test_sign_up_errors_name_the_field(client):
    assert client.post(
        "/api/v1/users", json={"email": "x", "password": PASSWORD, "display_name": "x", "consent": True}
    ).json()["detail"][0]["loc"] == ["body", "email"]
    short = client.post(
        "/api/v1/users", json={"email": "a@b.kr", "password": "short", "display_name": "A", "consent": True}
    )
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "password"]
    assert (
        client.post(
            "/api/v1/users", json={"email": "a@b.kr", "password": PASSWORD, "display_name": "A", "consent": True}
        ).json()["role"]
        == "member"
    )


def test_the_last_admin_keeps_the_role(client, platform):
    admin = new_user(platform, "admin", "admin")
    token = accounts.create_token(platform, admin, "t")
    response = client.put(
        f"/api/v1/users/{admin.id}/role", json={"role": "member"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422 and "last admin" in response.json()["detail"][0]["msg"]


def test_invalid_node_from_a_host_is_refused_with_the_field_named(client, people):
    tokens, _ = people
    bad = {"name": {"ko": "좌표 오류"}, "node_type": "makerspace", "location": {"lat": 126.9, "lon": 37.5}}
    response = client.post("/api/v1/nodes", json=bad, headers={"Authorization": f"Bearer {tokens['curator']}"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "location"]


def _form_token(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_the_sign_in_and_sign_up_forms_refuse_a_wrong_form_token(client, platform, path):
    new_user(platform, "maker", "member")
    form = {"display_name": "새 메이커", "email": "newcomer@example.kr", "password": PASSWORD, "consent": "yes"}
    if path == "/login":
        form = {"email": "maker@example.kr", "password": PASSWORD}
    token = _form_token(client, path)
    assert client.cookies.get(FORM_CSRF_COOKIE) == token
    users_before = count_rows(platform, user_account)

    for wrong in ["wrong-token", token[:-1], token + "x"]:
        response = client.post(path, data={**form, "csrf": wrong}, follow_redirects=False)
        assert response.status_code == 403, wrong
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert client.cookies.get(SESSION_COOKIE) is None
        assert count_rows(platform, web_session) == 0
        assert count_rows(platform, user_account) == users_before

    signed_in = client.post(path, data={**form, "csrf": token}, follow_redirects=False)
    assert signed_in.status_code == 303 and client.cookies.get(SESSION_COOKIE)
    assert count_rows(platform, web_session) == 1


def test_the_sign_in_page_says_how_long_to_wait(client, platform):
    new_user(platform, "maker", "member")
    form = {"email": "maker@example.kr", "password": "wrong", "csrf": _form_token(client, "/login")}
    for _ in range(limits.SIGN_IN_PAIR.free):
        assert client.post("/login", data=form).status_code == 401
    waiting = client.post("/login", data={**form, "password": PASSWORD})
    assert waiting.status_code == 429 and "1분 뒤에 다시 시도해 주세요" in waiting.text
    assert 0 < int(waiting.headers["Retry-After"]) <= 60


def test_the_sign_up_page_refuses_a_guessable_password_and_a_control_character(client):
    form = {"display_name": "메이커", "email": "maker@example.kr", "password": "1234567890", "consent": "yes"}
    weak = client.post("/signup", data={**form, "csrf": _form_token(client, "/signup")})
    assert weak.status_code == 422 and "추측하기 너무 쉽습니다" in weak.text
    nul = client.post("/signup", data={**form, "display_name": "메\x00이커", "password": PASSWORD,
                                       "csrf": _form_token(client, "/signup")},
                      params={"lang": "en"})  # fmt: skip
    assert nul.status_code == 422 and "remove the control characters" in nul.text
