"""Claims to host a place, from the claimant's press of the button to the council's decision and the
e-mail that tells the claimant, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from builders import count_rows, form_token, new_user, signed_in_page
from fabcity.directory import editing
from fabcity.errors import Conflict, Forbidden, RecordInvalid
from fabcity.notify import outbox
from fabcity.storage.db import MIGRATIONS
from fabcity.storage.schema import node, node_claim
from fabcity.storage.schema import outbox as outbox_table

NODE = "fab-lab-seoul"


def test_one_pending_claim_per_person_and_place_is_all_the_database_keeps(platform):
    member = new_user(platform, "maker", "member")
    editing.claim_node(platform, member, NODE, "제가 운영합니다")
    with pytest.raises(Conflict):
        editing.claim_node(platform, member, NODE, "두 번째 누름")
    with platform.engine.connect() as conn:
        pk = editing.node_pk_of(conn, NODE)
    # even a write that skips the service meets the partial unique index
    duplicate = {"node_pk": pk, "user_id": member.id, "message": "x", "created_at": datetime.now(UTC)}
    with pytest.raises(IntegrityError), platform.engine.begin() as conn:
        conn.execute(insert(node_claim).values(**duplicate, status="pending"))
    with platform.engine.begin() as conn:  # decided claims of the same pair are history, as many as there are
        conn.execute(insert(node_claim).values(**duplicate, status="rejected"))
        conn.execute(insert(node_claim).values(**duplicate, status="rejected"))
    assert count_rows(platform, node_claim) == 3


def test_after_a_decision_the_person_may_claim_again_and_others_may_claim_meanwhile(platform):
    curator = new_user(platform, "curator", "curator")
    first, second = new_user(platform, "first", "member"), new_user(platform, "second", "member")
    claim = editing.claim_node(platform, first, NODE, "운영자입니다")
    editing.claim_node(platform, second, NODE, "저도 운영합니다")  # another person: their own claim
    editing.decide_claim(platform, curator, claim["id"], approve=False)
    again = editing.claim_node(platform, first, NODE, "자료를 붙여 다시", "https://fablab.example.kr/team")
    with platform.engine.connect() as conn:
        pending = editing.pending_claims(conn)
    assert [(c["id"], c["proof_url"]) for c in pending if c["user_id"] == first.id] == [
        (again["id"], "https://fablab.example.kr/team")
    ]


def test_a_claim_needs_a_message_and_a_web_link_as_proof(platform):
    member = new_user(platform, "maker", "member")
    with pytest.raises(RecordInvalid) as both:
        editing.claim_node(platform, member, NODE, "  ", "javascript:alert(1)")
    assert [problem.field for problem in both.value.problems] == ["message", "proof_url"]
    for link in ("ftp://example.kr/x", "https://", "운영자", "https://example.kr/\x00", "https://["):
        with pytest.raises(RecordInvalid) as wrong:
            editing.claim_node(platform, member, NODE, "운영합니다", link)
        assert [problem.field for problem in wrong.value.problems] == ["proof_url"], link
    assert count_rows(platform, node_claim) == 0


def test_a_claim_is_decided_once_and_the_claimant_is_told(platform):
    curator, other = new_user(platform, "curator", "curator"), new_user(platform, "other", "curator")
    member = new_user(platform, "maker", "member")
    claim = editing.claim_node(platform, member, NODE, "운영합니다")
    with pytest.raises(Forbidden):
        editing.decide_claim(platform, member, claim["id"], approve=True)
    assert editing.decide_claim(platform, curator, claim["id"], approve=True)["status"] == "approved"
    for decider, approve in ((curator, True), (other, False)):
        with pytest.raises(Conflict, match="already decided"):
            editing.decide_claim(platform, decider, claim["id"], approve=approve)
    with platform.engine.connect() as conn:
        assert conn.execute(select(node_claim.c.status, node_claim.c.decided_by)).one() == ("approved", curator.id)
        (mail,) = outbox.messages(conn, member.email)
        assert editing.hosted_by(conn, member)[0]["slug"] == NODE
    assert "승인" in mail.subject and "approved" in mail.subject and "팹랩 서울" in mail.body
    assert mail.sent_at is None and mail.attempts == 0  # no mail server: it waits, readable, in the outbox


def test_a_rolled_back_decision_sends_nothing(platform, monkeypatch):
    curator, member = new_user(platform, "curator", "curator"), new_user(platform, "maker", "member")
    claim = editing.claim_node(platform, member, NODE, "운영합니다")

    def broken(*_args, **_kwargs):
        raise RuntimeError("the audit trail is down")

    monkeypatch.setattr(editing.audit, "record", broken)
    with pytest.raises(RuntimeError):
        editing.decide_claim(platform, curator, claim["id"], approve=True)
    assert count_rows(platform, outbox_table) == 0
    with platform.engine.connect() as conn:
        assert editing.pending_claims(conn)[0]["id"] == claim["id"]


# --- pages -----------------------------------------------------------------------------------


def test_a_visitor_is_invited_to_sign_in_and_comes_back_to_the_claim(client, platform):
    page = client.get(f"/nodes/{NODE}").text
    assert "이 공간을 운영하시나요?" in page and f'href="/login?next=/nodes/{NODE}/claim"' in page
    assert f'href="/signup?next=/nodes/{NODE}/claim"' in page
    assert client.get(f"/nodes/{NODE}/claim", follow_redirects=False).headers["location"] == (
        f"/login?next=/nodes/{NODE}/claim"
    )
    member = new_user(platform, "maker", "member")
    login = client.get(f"/login?next=/nodes/{NODE}/claim").text
    assert f'name="next" value="/nodes/{NODE}/claim"' in login
    form = {"email": member.email, "password": "correct horse battery", "csrf": form_token(client, "/login"),
            "next": f"/nodes/{NODE}/claim"}  # fmt: skip
    assert client.post("/login", data=form, follow_redirects=False).headers["location"] == f"/nodes/{NODE}/claim"


@pytest.mark.parametrize("target", ["https://elsewhere.example", "//elsewhere.example", "/\\elsewhere.example"])
def test_signing_in_never_sends_anyone_to_another_site(client, platform, target):
    member = new_user(platform, "maker", "member")
    form = {"email": member.email, "password": "correct horse battery", "csrf": form_token(client, "/login"),
            "next": target}  # fmt: skip
    assert client.post("/login", data=form, follow_redirects=False).headers["location"] == "/"


def test_pressing_the_claim_button_twice_files_one_claim_shown_as_pending(client, platform):
    member = new_user(platform, "maker", "member")
    signed_in_page(client, member)
    assert 'href="/nodes/fab-lab-seoul/claim"' in client.get(f"/nodes/{NODE}").text
    form = {
        "message": "2019년부터 운영하고 있습니다",
        "proof_url": "",
        "csrf": form_token(client, f"/nodes/{NODE}/claim"),
    }
    for _ in range(2):
        assert client.post(f"/nodes/{NODE}/claim", data=form, follow_redirects=False).status_code == 303
    assert count_rows(platform, node_claim) == 1
    page = client.get(f"/nodes/{NODE}").text
    assert "운영 신청 검토 중" in page and 'id="claim" disabled' in page
    account = client.get("/account").text
    assert "내 신청" in account and "검토 중" in account and "팹랩 서울" in account.split('id="my-claims"')[1]


def test_the_claim_form_names_each_problem_by_its_field_in_the_pages_language(client, platform):
    signed_in_page(client, new_user(platform, "maker", "member"))
    form = {"message": "", "proof_url": "javascript:alert(1)", "csrf": form_token(client, f"/nodes/{NODE}/claim")}
    korean = client.post(f"/nodes/{NODE}/claim", data=form)
    assert korean.status_code == 422 and "이 공간을 어떻게 운영하는지 적어 주세요" in korean.text
    assert 'aria-invalid="true" aria-describedby="message-error"' in korean.text
    assert 'aria-describedby="proof_url-error"' in korean.text  # both problems at once
    english = client.post(f"/nodes/{NODE}/claim?lang=en", data={**form, "message": "I run it"})
    assert english.status_code == 422 and "give a web address starting with https://" in english.text
    assert count_rows(platform, node_claim) == 0


def test_the_council_sees_each_claim_once_and_a_second_decision_changes_nothing(client, platform):
    curator, member = new_user(platform, "curator", "curator"), new_user(platform, "maker", "member")
    editing.claim_node(platform, member, NODE, "운영합니다 <b>정말</b>", "https://fablab.example.kr/team")
    signed_in_page(client, curator)
    council = client.get("/admin").text
    assert council.count(f'href="/nodes/{NODE}"') == 1 and "&lt;b&gt;정말&lt;/b&gt;" in council
    assert 'href="https://fablab.example.kr/team"' in council
    with platform.engine.connect() as conn:
        claim_id = editing.pending_claims(conn)[0]["id"]
    token = form_token(client, "/admin")
    approved = client.post(f"/admin/claims/{claim_id}/approve", data={"csrf": token}, follow_redirects=False)
    assert approved.status_code == 303
    again = client.post(f"/admin/claims/{claim_id}/reject", data={"csrf": token})
    assert again.status_code == 409 and "이미 결정되었습니다" in again.text
    assert client.post(f"/admin/claims/{claim_id}/maybe", data={"csrf": token}).status_code == 404
    with platform.engine.connect() as conn:
        assert conn.execute(select(node_claim.c.status)).scalar_one() == "approved"
        assert len(outbox.messages(conn, member.email)) == 1


def test_the_api_answers_a_second_claim_and_a_second_decision_with_409(client, platform):
    from fabcity.accounts import service as accounts

    curator, member = new_user(platform, "curator", "curator"), new_user(platform, "maker", "member")
    as_member = {"Authorization": f"Bearer {accounts.create_token(platform, member, 't')}"}
    as_curator = {"Authorization": f"Bearer {accounts.create_token(platform, curator, 't')}"}
    body = {"message": "운영합니다", "proof_url": "https://fablab.example.kr"}
    claim = client.post(f"/api/v1/nodes/{NODE}/claims", json=body, headers=as_member)
    assert claim.status_code == 201
    assert client.post(f"/api/v1/nodes/{NODE}/claims", json=body, headers=as_member).status_code == 409
    assert client.post(f"/api/v1/claims/{claim.json()['id']}/approve", headers=as_curator).status_code == 200
    second = client.post(f"/api/v1/claims/{claim.json()['id']}/reject", headers=as_curator)
    assert second.status_code == 409 and "already decided" in second.json()["detail"]


def test_role_names_are_shown_in_the_pages_language(client, platform):
    admin = new_user(platform, "admin", "admin")
    signed_in_page(client, admin)
    assert "<dd>관리자</dd>" in client.get("/account").text
    council = client.get("/admin").text
    assert ">회원</option>" in council and ">member</option>" not in council
    assert ">Curator</option>" in client.get("/admin?lang=en").text


def test_the_migration_withdraws_the_repeated_pending_claims_older_versions_let_in(platform):
    member = new_user(platform, "maker", "member")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with platform.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    with platform.engine.begin() as conn:
        pk = conn.execute(select(node.c.pk).where(node.c.slug == NODE)).scalar_one()
        for message in ("처음", "두 번째", "세 번째"):
            row = {"node_pk": pk, "user_id": member.id, "message": message, "created_at": datetime.now(UTC)}
            conn.execute(insert(node_claim).values(**row, status="pending"))
    with platform.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with platform.engine.connect() as conn:
        kept = conn.execute(select(node_claim.c.message, node_claim.c.status).order_by(node_claim.c.id)).all()
    assert kept == [("처음", "pending"), ("두 번째", "withdrawn"), ("세 번째", "withdrawn")]
