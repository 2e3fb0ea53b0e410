"""The outbox: e-mails waiting to be sent, and their delivery over SMTP.

A message is queued in the same transaction as the decision it tells about, so a rolled-back act
sends nothing and a committed one is never lost. Delivery takes each waiting message by a
compare-and-swap on its attempt count, so two workers delivering at once do not both send it.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy import Connection, delete, insert, select, update

from fabcity.platform import Platform
from fabcity.settings import Smtp
from fabcity.storage.schema import outbox

MOST_ATTEMPTS = 5
"""A message that failed this often waits for someone to look (its last error is kept)."""
SMTP_TIMEOUT_S = 20


@dataclass(frozen=True)
class Message:
    id: int
    recipient: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None


def queue(conn: Connection, recipient: str, subject: str, body: str) -> None:
    """An e-mail to send once the caller's transaction commits."""
    conn.execute(
        insert(outbox).values(
            recipient=recipient, subject=subject, body=body, created_at=datetime.now(UTC), attempts=0
        )  # fmt: skip
    )


def messages(conn: Connection, recipient: str | None = None, limit: int = 50) -> list[Message]:
    """The latest messages, newest first (to one recipient, if named)."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(outbox.c.recipient == recipient)
    return [Message(**row) for row in conn.execute(query).mappings()]


def deliver(platform: Platform, smtp: Smtp) -> int:
    """Send every waiting message over SMTP; returns how many were sent. Without a host, nothing happens."""
    if not smtp.host:
        return 0
    with platform.engine.connect() as conn:
        waiting = conn.execute(
            select(outbox.c.id, outbox.c.attempts)
            .where(outbox.c.sent_at.is_(None), outbox.c.attempts < MOST_ATTEMPTS)
            .order_by(outbox.c.id)
        ).all()
    sent = 0
    for message_id, attempts in waiting:
        message = _take(platform, message_id, attempts)
        if message is not None:
            sent += _send(platform, smtp, message)
    return sent


def _take(platform: Platform, message_id: int, attempts: int) -> Message | None:
    """The message, if this delivery counted its attempt first (another worker may be sending it)."""
    with platform.engine.begin() as conn:
        taken = conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.attempts == attempts, outbox.c.sent_at.is_(None))
            .values(attempts=attempts + 1)
        ).rowcount
        if taken != 1:
            return None
        return Message(**conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().one())


def _send(platform: Platform, smtp: Smtp, message: Message) -> int:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = smtp.sender, message.recipient, message.subject
    email.set_content(message.body)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.user:
                server.login(smtp.user, smtp.password)
            server.send_message(email)
    except (OSError, smtplib.SMTPException) as error:
        outcome = {"last_error": f"{type(error).__name__}: {error}"[:500]}
    else:
        outcome = {"sent_at": datetime.now(UTC), "last_error": None}
    with platform.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == message.id).values(**outcome))
    return int("sent_at" in outcome)


def forget(conn: Connection, recipient: str) -> None:
    """Remove every message to an address (its owner deleted their account)."""
    conn.execute(delete(outbox).where(outbox.c.recipient == recipient))
