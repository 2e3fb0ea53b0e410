"""Behaviours of sessions, roles, writes and limits that no other test pinned down.

Each was found by mutation testing (docs/mutation-testing.md): the code could be changed so that
the behaviour broke and every test still passed. The tests name the behaviour, not the change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from builders import EULJIRO, PASSWORD, new_user, node_record
from fabcity import audit
from fabcity.accounts import limits
from fabcity.accounts import service as accounts
from fabcity.directory import editing, precedence
from fabcity.errors import FieldError, Forbidden, RecordInvalid
from fabcity.settings import Settings, networks
from fabcity.storage.schema import api_token
from fabcity.web.app import create_app
from fabcity.web.auth import FORM_CSRF_COOKIE, SESSION_COOKIE


def test_signing_out_ends_that_session_and_no_other(platform):
    """A signed-out cookie is refused even if someone kept a copy; the same person's other device stays in."""
    maker = new_user(platform, "maker", "member")
    laptop, _ = accounts.start_session(platform, maker)
    phone, _ = accounts.start_session(platform, maker)
    accounts.end_session(platform, laptop)
    with platform.engine.connect() as conn:
        assert accounts.session_user(conn, laptop) is None
        assert accounts.session_user(conn, phone)[0] == maker


def test_a_session_past_its_lifetime_signs_nobody_in(platform, monkeypatch):
    maker = new_user(platform, "maker", "member")
    secret, _ = accounts.start_session(platform, maker)
    ended = datetime.now(UTC) + accounts.SESSION_LIFETIME + timedelta(seconds=1)
    monkeypatch.setattr(accounts, "_now", lambda: ended)
    with platform.engine.connect() as conn:
        assert accounts.session_user(conn, secret) is None


def test_a_role_change_is_in_the_audit_trail_and_answers_the_changed_account(platform):
    admin, maker = new_user(platform, "admin", "admin"), new_user(platform, "maker", "member")
    assert accounts.set_role(platform, admin, maker.id, "curator") == accounts.User(
        maker.id, maker.email, maker.display_name, "curator"
    )
    with platform.engine.connect() as conn:
        last = audit.history(conn, "user", str(maker.id))[-1]
    assert (last["user_id"], last["action"]) == (admin.id, "user.role")
    assert last["changes"] == {"role": ["member", "curator"]}


def test_a_role_that_does_not_exist_is_refused_naming_the_role_field(platform):
    admin, member = new_user(platform, "admin", "admin"), new_user(platform, "member", "member")
    with pytest.raises(FieldError) as refused:
        accounts.set_role(platform, admin, member.id, "owner")
    assert refused.value.field == "role"
    assert refused.value.message == "unknown role 'owner'; use one of member, host, curator, admin"


def test_the_last_admin_keeps_the_role_while_other_accounts_exist(platform):
    admin = new_user(platform, "admin", "admin")
    new_user(platform, "curator", "curator")
    new_user(platform, "member", "member")
    with pytest.raises(FieldError) as refused:
        accounts.set_role(platform, admin, admin.id, "member")
    assert refused.value.field == "role"
    assert refused.value.message == "this is the last admin; make another admin first"
    with platform.engine.connect() as conn:
        assert accounts.get_user(conn, admin.id).role == "admin"


def test_one_of_two_admins_may_step_down(platform):
    leaving, staying = new_user(platform, "leaving", "admin"), new_user(platform, "staying", "admin")
    assert accounts.set_role(platform, leaving, leaving.id, "curator").role == "curator"
    with platform.engine.connect() as conn:
        assert [user.role for user in accounts.list_users(conn)] == ["curator", "admin"]
    with pytest.raises(FieldError, match="last admin"):
        accounts.set_role(platform, staying, staying.id, "member")


def test_an_admin_demoted_meanwhile_is_refused_as_no_longer_an_admin(platform):
    """The actor was read as an admin (a request in flight) but lost the role: no change, and no 'last admin'."""
    first, second, demoted = (new_user(platform, name, "admin") for name in ("first", "second", "demoted"))
    accounts.set_role(platform, first, demoted.id, "member")
    with pytest.raises(Forbidden) as refused:
        accounts.set_role(platform, demoted, second.id, "member")
    assert str(refused.value) == "you are no longer an admin"
    with platform.engine.connect() as conn:
        assert accounts.get_user(conn, second.id).role == "admin"


def _sign_ups(platform, trusted: str, peer: str, forwarded: list) -> list[int]:
    """The answers to one sign-up per entry of `forwarded` (its headers), from `peer` behind `trusted` proxies."""
    app = create_app(platform, Settings(database="", trusted_proxies=networks(trusted)))
    with TestClient(app, client=(peer, 40000)) as client:
        return [
            client.post(
                "/api/v1/users",
                json={"email": f"maker{n}@example.kr", "password": PASSWORD, "display_name": "메이커", "consent": True},
                headers=headers,
            ).status_code
            for n, headers in enumerate(forwarded)
        ]


def test_a_zone_in_a_forwarded_address_does_not_make_a_fresh_client_for_the_limits(platform):
    """fe80::1%1 and fe80::1%2 are one client to the sign-up limit: the zone is not part of the address."""
    free = limits.SIGN_UP_ADDRESS.free
    forwarded = [{"X-Forwarded-For": f"fe80::1%{n}"} for n in range(free + 1)]
    statuses = _sign_ups(platform, "10.0.0.0/8", "10.0.0.5", forwarded)
    assert statuses == [201] * free + [429]


def test_each_client_behind_a_chain_of_trusted_proxies_has_its_own_limit(platform):
    """Two trusted proxies (say a CDN, then a load balancer): the client is the hop the outer one wrote,
    whether the hops come in one header or in one header line each."""
    free = limits.SIGN_UP_ADDRESS.free
    one_line = [[("X-Forwarded-For", f"192.0.2.{n}, 10.0.0.7")] for n in range(free + 1)]
    line_each = [[("X-Forwarded-For", f"198.51.100.{n}"), ("X-Forwarded-For", "10.0.0.7")] for n in range(free + 1)]
    statuses = _sign_ups(platform, "10.0.0.0/8", "10.0.0.5", one_line + line_each)
    assert statuses == [201] * len(statuses)


def test_a_peer_without_an_ip_address_is_never_taken_for_a_trusted_proxy(platform):
    """A peer known only by a name (a socket, the test client) cannot pick its limit by X-Forwarded-For."""
    free = limits.SIGN_UP_ADDRESS.free
    forwarded = [{"X-Forwarded-For": f"192.0.2.{n}"} for n in range(free + 1)]
    statuses = _sign_ups(platform, "0.0.0.0/0, ::/0", "testclient", forwarded)
    assert statuses == [201] * free + [429]


def test_a_hop_that_is_no_address_leaves_the_trusted_proxy_as_the_client(platform):
    free = limits.SIGN_UP_ADDRESS.free
    forwarded = [{"X-Forwarded-For": f"client-{n}"} for n in range(free + 1)]
    statuses = _sign_ups(platform, "10.0.0.0/8", "10.0.0.5", forwarded)
    assert statuses == [201] * free + [429]


def _cookie(response, name: str) -> dict[str, str]:
    """The attributes of the cookie `name` the response sets, lowercased ({"httponly": "", "path": "/", …})."""
    [line] = [line for line in response.headers.get_list("set-cookie") if line.startswith(name + "=")]
    return dict((part.split("=", 1) + [""])[:2] for part in line.lower().split("; ")[1:])


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [("http://localhost", False), ("https://localhost", True), ("https://fabcity.example", True)],
)
def test_the_form_and_session_cookies_are_for_the_server_only_and_over_https_unless_on_plain_loopback(
    platform, base_url, secure
):
    """Scripts in a page cannot read them, other sites cannot send them, and a session lasts its lifetime."""
    maker = new_user(platform, "maker", "member")
    with TestClient(create_app(platform), base_url=base_url) as client:
        form = _cookie(client.get("/login"), FORM_CSRF_COOKIE)
        session = _cookie(
            client.post("/api/v1/session", json={"email": maker.email, "password": PASSWORD}), SESSION_COOKIE
        )
    assert ("secure" in form, "secure" in session) == (secure, secure)
    assert {k: form[k] for k in ("httponly", "samesite", "path")} == {"httponly": "", "samesite": "strict", "path": "/"}
    assert {k: session[k] for k in ("httponly", "samesite", "path", "max-age")} == {
        "httponly": "",
        "samesite": "lax",
        "path": "/",
        "max-age": str(int(accounts.SESSION_LIFETIME.total_seconds())),
    }


def test_a_new_api_token_reads_fct_acts_for_its_owner_and_is_in_the_audit_trail_under_its_own_id(platform):
    """The fct_ prefix is documented (docs/security.md): secret scanners and people recognise a token by it."""
    maker = new_user(platform, "maker", "member")
    token = accounts.create_token(platform, maker, "nightly export")
    assert token.startswith("fct_")
    with platform.engine.connect() as conn:
        assert accounts.token_user(conn, token) == maker
        token_id = conn.execute(select(api_token.c.id).where(api_token.c.user_id == maker.id)).scalar_one()
        [entry] = audit.history(conn, "token", str(token_id))
    assert (entry["user_id"], entry["action"], entry["changes"]) == (
        maker.id,
        "token.create",
        {"name": [None, "nightly export"]},
    )


def test_an_account_without_a_name_is_refused_naming_the_display_name_field(platform):
    with pytest.raises(RecordInvalid) as refused:
        accounts.create_user(platform, "maker@example.kr", PASSWORD, "   ")
    assert [(p.field, p.message) for p in refused.value.problems] == [("display_name", "a name is needed")]


def test_a_created_node_is_in_its_own_audit_history(platform):
    curator = new_user(platform, "curator", "curator")
    written = editing.create_node(platform, curator, node_record("new-lab", *EULJIRO))
    with platform.engine.connect() as conn:
        [entry] = audit.history(conn, "node", written.record["id"])
    assert (entry["user_id"], entry["action"]) == (curator.id, "node.create")


def test_a_verification_is_one_field_of_its_own_apart_from_the_rest_of_the_provenance():
    """Field names are stored in each node's field_ranks (and written by migration 0009): they must not drift."""
    record = {"provenance": {"source": "s", "license": "CC0-1.0", "verified_at": "2026-01-01", "verified_by": 3}}
    assert precedence.fields(record) == {
        "provenance": {"provenance.source": "s", "provenance.license": "CC0-1.0"},
        "provenance.verified": {"provenance.verified_at": "2026-01-01", "provenance.verified_by": 3},
    }
