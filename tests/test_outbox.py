"""The e-mail outbox: delivery over real SMTP to a local aiosmtpd server the test starts, what a failed
delivery leaves, and reading the outbox without a mail server (`fabcity outbox`)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from builders import new_user
from fabcity.cli.main import main
from fabcity.directory import editing
from fabcity.notify import outbox
from fabcity.settings import Settings, Smtp
from fabcity.storage.schema import outbox as outbox_table
from servers import free_port


def _decided_claim(platform, approve: bool = True):
    curator, member = new_user(platform, "curator", "curator"), new_user(platform, "maker", "member")
    claim = editing.claim_node(platform, member, "fab-lab-seoul", "운영합니다")
    editing.decide_claim(platform, curator, claim["id"], approve=approve)
    return member


def test_a_decision_is_delivered_over_smtp_in_korean_and_english(platform, mail):
    smtp, inbox = mail
    member = _decided_claim(platform)
    assert outbox.deliver(platform, smtp) == 1
    (received,) = inbox.received
    assert received["To"] == member.email and received["From"] == "noreply@fabcity.example.kr"
    assert "승인" in received["Subject"] and "approved" in received["Subject"]
    assert "팹랩 서울" in received.get_content() and "you can now edit" in received.get_content()
    assert outbox.deliver(platform, smtp) == 0 and len(inbox.received) == 1  # sent once
    with platform.engine.connect() as conn:
        (stored,) = outbox.messages(conn, member.email)
    assert stored.sent_at is not None and stored.attempts == 1 and stored.last_error is None


def test_a_failed_delivery_keeps_the_message_and_why(platform):
    member = _decided_claim(platform, approve=False)
    nobody_listens = Smtp(host="127.0.0.1", port=free_port())
    assert outbox.deliver(platform, nobody_listens) == 0
    with platform.engine.connect() as conn:
        (stored,) = outbox.messages(conn, member.email)
    assert stored.sent_at is None and stored.attempts == 1 and "Connection" in stored.last_error
    assert "거절" in stored.subject or "declined" in stored.subject


def test_without_a_mail_server_nothing_is_tried_and_the_cli_shows_the_messages(platform, db_url):
    member = _decided_claim(platform)
    assert outbox.deliver(platform, Smtp()) == 0
    shown = CliRunner().invoke(main, ["outbox", "--to", member.email.upper(), "--db", db_url], catch_exceptions=False)
    assert shown.exit_code == 0 and "waiting" in shown.output and "KST" in shown.output
    assert f"to {member.email}" in shown.output and "팹랩 서울" in shown.output
    refused = CliRunner().invoke(main, ["outbox", "send", "--db", db_url], env={"FABCITY_SMTP_HOST": ""})
    assert refused.exit_code == 2 and "FABCITY_SMTP_HOST" in refused.output


def test_smtp_settings_come_from_the_environment():
    settings = Settings.from_environment(
        {"FABCITY_SMTP_HOST": "mail.example.kr", "FABCITY_SMTP_PORT": "2525", "FABCITY_SMTP_STARTTLS": "1",
         "FABCITY_SMTP_FROM": "council@example.kr", "FABCITY_DB": "x.sqlite3"}
    )  # fmt: skip
    assert settings.smtp == Smtp("mail.example.kr", 2525, "council@example.kr", "", "", True)
    with pytest.raises(ValueError, match="FABCITY_SMTP_PORT"):
        Settings.from_environment({"FABCITY_SMTP_PORT": "smtp", "FABCITY_DB": "x.sqlite3"})


def test_the_cli_retries_only_a_message_that_stopped_after_its_tries(platform, db_url):
    member = _decided_claim(platform)
    with platform.engine.begin() as conn:
        (stored,) = outbox.messages(conn, member.email)
        conn.execute(update(outbox_table).where(outbox_table.c.id == stored.id).values(attempts=outbox.MOST_ATTEMPTS))
    retried = CliRunner().invoke(main, ["outbox", "retry", str(stored.id), "--db", db_url])
    assert retried.exit_code == 0 and f"#{stored.id}" in retried.output
    again = CliRunner().invoke(main, ["outbox", "retry", str(stored.id), "--db", db_url])
    assert again.exit_code == 2 and "5 tries" in again.output
    with platform.engine.connect() as conn:
        assert outbox.messages(conn, member.email)[0].attempts == 0
