"""Looking after an account: consent at sign-up, the privacy notice, password reset by e-mail, deleting
the account, and the forms' problems told in the page's language; on both backends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from builders import PASSWORD, count_rows, form_token, new_user, signed_in_page
from fabcity.accounts import limits
from fabcity.accounts import service as accounts
from fabcity.audit import history
from fabcity.directory import editing
from fabcity.errors import Conflict, FieldError, NotFound, RecordInvalid, TooManyAttempts
from fabcity.notify import outbox
from fabcity.storage.schema import api_token, login_attempt, node_claim, password_reset, user_account, web_session

NEW_PASSWORD = "violet tandem lighthouse"
SITE = "https://fabcity.example.kr"


def _reset_link(platform, email: str) -> str:
    with platform.engine.connect() as conn:
        body = outbox.messages(conn, email)[0].body
    return re.search(r"https://\S+/reset/(\S+)", body).group(1)


def _stored(platform, user_id: int) -> accounts.User:
    with platform.engine.connect() as conn:
        return accounts.get_user(conn, user_id)


# --- sign-up and consent ---------------------------------------------------------------------


def test_sign_up_needs_consent_and_keeps_its_time(platform):
    with pytest.raises(RecordInvalid) as refused:
        accounts.sign_up(platform, "maker@example.kr", PASSWORD, "메이커", "198.51.100.1", consented=False)
    assert [problem.field for problem in refused.value.problems] == ["consent"]
    before = datetime.now(UTC)
    user = accounts.sign_up(platform, "maker@example.kr", PASSWORD, "메이커", "198.51.100.1", consented=True)
    with platform.engine.connect() as conn:
        consented = conn.execute(select(user_account.c.consented_at).where(user_account.c.id == user.id)).scalar()
    assert (consented if consented.tzinfo else consented.replace(tzinfo=UTC)) >= before - timedelta(seconds=1)


def test_the_sign_up_form_names_every_problem_at_once_in_korean(client):
    form = {"display_name": "", "email": "not-an-address", "password": "short", "csrf": form_token(client, "/signup")}
    page = client.post("/signup", data=form)
    assert page.status_code == 422
    for said in ("이메일 주소가 아닙니다", "이름을 적어 주세요", "10자 이상", "개인정보 처리방침에 동의해 주세요"):
        assert said in page.text, said
    visible = re.sub(r"<[^>]+>", " ", page.text)
    assert "not an e-mail address" not in visible and "display_name" not in visible
    for field in ("email", "display_name", "password", "consent"):
        assert f'aria-describedby="{field}-error"' in page.text, field
    english = client.post("/signup?lang=en", data=form).text
    assert "not an e-mail address" in english and "accept the privacy notice to sign up" in english


def test_the_privacy_notice_says_what_why_how_long_and_whom_to_ask(client):
    korean = client.get("/privacy").text
    for said in ("수집하는 항목과 목적", "보유 기간", "30일", "개인정보 보호책임자", "계정 삭제"):
        assert said in korean, said
    english = client.get("/privacy?lang=en").text
    assert "How long" in english and "Who to contact" in english and "Personal Information Protection Act" in english
    assert '<a href="/privacy">개인정보 처리방침</a>' in client.get("/?lang=ko").text  # every page's footer
    assert '<a href="/privacy">개인정보 처리방침 보기</a>' in client.get("/signup?lang=ko").text  # beside the consent


# --- password reset --------------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once_and_ends_the_sessions(platform):
    user = new_user(platform, "maker", "member")
    accounts.start_session(platform, user)
    accounts.request_reset(platform, user.email, "198.51.100.2", SITE)
    token = _reset_link(platform, user.email)
    with platform.engine.connect() as conn:
        assert conn.execute(select(password_reset.c.token_hash)).scalar_one() != token  # only its hash is kept
    accounts.reset_password(platform, token, NEW_PASSWORD)
    assert accounts.authenticate(platform, user.email, NEW_PASSWORD, "198.51.100.2") == user
    assert count_rows(platform, web_session) == 0
    with pytest.raises(Conflict):
        accounts.reset_password(platform, token, "another long phrase here")
    with pytest.raises(NotFound):
        accounts.reset_password(platform, "made-up", NEW_PASSWORD)


def test_a_used_link_ends_the_older_links_and_expired_ones_are_cleared(platform):
    user = new_user(platform, "maker", "member")
    for _ in range(2):
        accounts.request_reset(platform, user.email, "198.51.100.2", SITE)
    with platform.engine.connect() as conn:
        older, newer = (re.search(r"/reset/(\S+)", m.body).group(1) for m in reversed(outbox.messages(conn)))
    accounts.reset_password(platform, newer, NEW_PASSWORD)
    with pytest.raises(NotFound):
        accounts.reset_password(platform, older, "another long phrase here")
    with platform.engine.begin() as conn:
        conn.execute(update(password_reset).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    accounts.request_reset(platform, user.email, "198.51.100.2", SITE)
    assert count_rows(platform, password_reset) == 1


def test_an_expired_link_changes_nothing(platform):
    user = new_user(platform, "maker", "member")
    accounts.request_reset(platform, user.email, "198.51.100.2", SITE)
    with platform.engine.begin() as conn:
        conn.execute(update(password_reset).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(Conflict):
        accounts.reset_password(platform, _reset_link(platform, user.email), NEW_PASSWORD)
    assert accounts.authenticate(platform, user.email, PASSWORD, "198.51.100.2") == user


def test_a_weak_new_password_keeps_the_link_usable(platform):
    user = new_user(platform, "maker", "member")
    accounts.request_reset(platform, user.email, "198.51.100.2", SITE)
    token = _reset_link(platform, user.email)
    with pytest.raises(FieldError):
        accounts.reset_password(platform, token, "1234567890")
    accounts.reset_password(platform, token, NEW_PASSWORD)


def test_the_reset_form_answers_the_same_whether_the_account_exists(client, platform):
    new_user(platform, "maker", "member")
    answers = []
    for email in ("maker@example.kr", "nobody@example.kr"):
        page = client.post("/reset", data={"email": email, "csrf": form_token(client, "/reset")})
        answers.append((page.status_code, page.text.split('role="status"')[1].split("</p>")[0]))
    assert answers[0] == answers[1] and answers[0][0] == 200
    with platform.engine.connect() as conn:
        assert [m.recipient for m in outbox.messages(conn)] == ["maker@example.kr"]


def test_reset_requests_are_limited_per_e_mail(platform):
    user = new_user(platform, "maker", "member")
    for number in range(limits.RESET_EMAIL.free):
        accounts.request_reset(platform, user.email, f"198.51.100.{number}", SITE)
    with pytest.raises(TooManyAttempts):
        accounts.request_reset(platform, user.email, "198.51.100.99", SITE)
    with platform.engine.connect() as conn:
        assert len(outbox.messages(conn, user.email)) == limits.RESET_EMAIL.free


def test_the_reset_page_signs_in_with_the_new_password(client, platform):
    user = new_user(platform, "maker", "member")
    accounts.request_reset(platform, user.email, "198.51.100.2", SITE)
    token = _reset_link(platform, user.email)
    form = {"password": NEW_PASSWORD, "csrf": form_token(client, f"/reset/{token}")}
    done = client.post(f"/reset/{token}", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert client.get("/api/v1/me").json()["email"] == user.email
    again = client.post(f"/reset/{token}", data={**form, "csrf": form_token(client, f"/reset/{token}")})
    assert again.status_code == 409 and "이미 사용했거나 만료된 링크입니다" in again.text


# --- deleting an account ---------------------------------------------------------------------


def test_deleting_an_account_forgets_the_person_and_keeps_the_trail(platform):
    curator, member = new_user(platform, "curator", "curator"), new_user(platform, "maker", "member")
    claim = editing.claim_node(platform, member, "fab-lab-seoul", "운영합니다")
    editing.decide_claim(platform, curator, claim["id"], approve=True)
    editing.update_node(platform, _stored(platform, member.id), "fab-lab-seoul", {"operator": "팀"})
    editing.claim_node(platform, member, "seoul-innovation-fab-lab", "여기도 운영합니다")
    accounts.create_token(platform, member, "script")
    accounts.start_session(platform, member)
    accounts.authenticate(platform, member.email, PASSWORD, "198.51.100.3")
    with pytest.raises(FieldError):
        accounts.delete_account(platform, member, "wrong password!")
    with platform.engine.connect() as conn:
        entries_before = len(history(conn, "user", str(member.id)))

    accounts.delete_account(platform, member, PASSWORD)

    gone = _stored(platform, member.id)
    assert (gone.display_name, gone.email.endswith("@deleted.invalid")) == (accounts.DELETED_NAME, True)
    for table in (web_session, api_token):
        assert count_rows(platform, table, table.c.user_id == member.id) == 0
    assert count_rows(platform, login_attempt, login_attempt.c.email == member.email) == 0
    with platform.engine.connect() as conn:
        trail = history(conn, "user", str(member.id))
        statuses = dict(conn.execute(select(node_claim.c.id, node_claim.c.status)).all())
        assert outbox.messages(conn, member.email) == []
        assert editing.hosted_by(conn, gone) == []
    assert len(trail) == entries_before + 1 and member.email not in str(trail) and "maker" not in str(trail)
    assert sorted(statuses.values()) == ["approved", "withdrawn"]
    assert accounts.authenticate(platform, gone.email, PASSWORD, "198.51.100.3") is None
    again = accounts.sign_up(platform, member.email, PASSWORD, "다시 온 메이커", "198.51.100.4", consented=True)
    assert again.id != member.id


def test_the_delete_page_asks_for_the_password_and_signs_out(client, platform):
    member = new_user(platform, "maker", "member")
    signed_in_page(client, member)
    wrong = client.post("/account/delete", data={"password": "nope", "csrf": form_token(client, "/account/delete")})
    assert wrong.status_code == 422 and "비밀번호가 맞지 않습니다" in wrong.text
    form = {"password": PASSWORD, "csrf": form_token(client, "/account/delete")}
    assert client.post("/account/delete", data=form, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_an_empty_sign_up_form_names_every_field(platform):
    with pytest.raises(RecordInvalid) as refused:
        accounts.sign_up(platform, "", "", "", "198.51.100.5", consented=False)
    assert [problem.field for problem in refused.value.problems] == ["email", "display_name", "password", "consent"]
