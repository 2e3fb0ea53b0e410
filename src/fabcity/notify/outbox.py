"""The outbox: e-mails waiting to be sent, and their delivery over SMTP, never twice and never lost.

A message is queued in the same transaction as the decision it tells about, so a rolled-back act
sends nothing and a committed one is never lost. A message with a `dedupe_key` (a reminder, an
expiry) is queued at most once: the key is unique and a second insert is ignored, on both backends.

Delivery takes a message by a compare-and-swap on its lease: `UPDATE … SET claimed_until = now +
LEASE WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= now)`. Only one worker's
update matches (PostgreSQL re-checks the condition after waiting for the other's row lock; SQLite
runs one writer at a time), so two workers, or a worker and the web server's background task,
never send the same message at once. The message is marked sent only after the mail server has
answered the end of the data with 250, i.e. accepted it. A worker killed before that answer leaves
the message taken until its lease ends; the next worker then sends it: nothing is lost. The lease
(5 minutes) is longer than a whole delivery can last (at most about nine SMTP commands, each given
SMTP_TIMEOUT_S), so a slow worker is not overtaken while it is still sending.

The one window that no protocol between a database and an SMTP server can close: a worker killed
after the server's 250 and before its mark is written. The next worker sends the message again, with
the same `Message-ID` (kept on the row from when it was queued), by which mail servers and clients
recognise and drop the copy. Failures are counted (`attempts`, with the last error kept); a failed
message is retried after a pause that doubles with each try, and after MOST_ATTEMPTS tries it waits
for a person (`fabcity outbox retry`).
"""

from __future__ import annotations

import os
import secrets
import smtplib
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import ColumnElement, Connection, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fabcity.platform import Platform
from fabcity.settings import Smtp
from fabcity.storage.schema import outbox

MOST_ATTEMPTS = 5
"""A message that failed this often waits for someone to look (its last error is kept)."""
SMTP_TIMEOUT_S = 20
LEASE = timedelta(minutes=5)
"""How long a taken message is left to its worker; longer than a delivery can last (see above)."""
FIRST_RETRY = timedelta(minutes=1)
"""The pause after a first failure; it doubles with each further try."""
BATCH = 100


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
    message_id: str
    dedupe_key: str | None
    claimed_by: str | None
    claimed_until: datetime | None


def queue(conn: Connection, recipient: str, subject: str, body: str, dedupe_key: str | None = None) -> bool:
    """An e-mail to send once the caller's transaction commits; False when `dedupe_key` was queued before."""
    values = {
        "recipient": recipient,
        "subject": subject,
        "body": body,
        "created_at": datetime.now(UTC),
        "attempts": 0,
        "message_id": make_msgid("outbox", domain="fabcity"),
        "dedupe_key": dedupe_key,
    }
    if dedupe_key is None:
        conn.execute(insert(outbox).values(values))
        return True
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(outbox).values(values).on_conflict_do_nothing(index_elements=[outbox.c.dedupe_key])
    return conn.execute(statement.returning(outbox.c.id)).first() is not None


def messages(conn: Connection, recipient: str | None = None, limit: int = 50) -> list[Message]:
    """The latest messages, newest first (to one recipient, if named)."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if recipient is not None:
        query = query.where(outbox.c.recipient == recipient)
    return [Message(**row) for row in conn.execute(query).mappings()]


def worker_name() -> str:
    """Who takes a message: this host and process, and a random part (a process may deliver in threads)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _takeable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Not sent, not given up, and nobody's lease is live."""
    return (
        outbox.c.sent_at.is_(None),
        outbox.c.attempts < MOST_ATTEMPTS,
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
    )


def deliver(platform: Platform, smtp: Smtp, worker: str | None = None, at: datetime | None = None) -> int:
    """Send the waiting messages over SMTP, each taken by this worker first; how many were sent.

    Without a mail server nothing happens. `at` stands for the clock (tests look past a lease).
    """
    if not smtp.host:
        return 0
    worker = worker or worker_name()
    with platform.engine.connect() as conn:
        query = select(outbox.c.id).where(*_takeable(at or datetime.now(UTC))).order_by(outbox.c.id).limit(BATCH)
        waiting = list(conn.execute(query).scalars())
    sent = 0
    for message_id in waiting:
        message = take(platform, message_id, worker, at)
        if message is not None:
            sent += _send(platform, smtp, message, worker, at)
    return sent


def take(platform: Platform, message_id: int, worker: str, at: datetime | None = None) -> Message | None:
    """The message, leased to `worker`, if nobody has sent it nor holds a live lease on it; else None."""
    now = at or datetime.now(UTC)
    with platform.engine.begin() as conn:
        taken = conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id, *_takeable(now))
            .values(claimed_by=worker, claimed_until=now + LEASE, attempts=outbox.c.attempts + 1)
        ).rowcount
        if taken != 1:
            return None
        return Message(**conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().one())


def email_of(message: Message, sender: str) -> EmailMessage:
    """The e-mail of an outbox row; its Message-ID is the row's, the same on every try."""
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, message.recipient, message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(message.created_at.replace(tzinfo=message.created_at.tzinfo or UTC))
    email.set_content(message.body)
    return email


def _send(platform: Platform, smtp: Smtp, message: Message, worker: str, at: datetime | None) -> int:
    unsent = [outbox.c.id == message.id, outbox.c.sent_at.is_(None)]
    try:
        _transmit(smtp, email_of(message, smtp.sender))
    except (OSError, smtplib.SMTPException) as error:
        now = at or datetime.now(UTC)
        pause = FIRST_RETRY * 2 ** (message.attempts - 1)
        outcome = {"last_error": f"{type(error).__name__}: {error}"[:500], "claimed_until": now + pause}
        unsent.append(outbox.c.claimed_by == worker)  # a later worker's lease is left alone
    else:
        # Accepted by the server: recorded as sent whoever holds the lease by now.
        outcome = {"sent_at": at or datetime.now(UTC), "last_error": None, "claimed_until": None}
    with platform.engine.begin() as conn:
        conn.execute(update(outbox).where(*unsent).values(outcome))
    return int("sent_at" in outcome)


def _transmit(smtp: Smtp, email: EmailMessage) -> None:
    """Hand the e-mail to the mail server; returns once the server accepted it (its 250 after the data)."""
    server = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S)
    try:
        if smtp.starttls:
            server.starttls()
        if smtp.user:
            server.login(smtp.user, smtp.password)
        server.send_message(email)
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):  # accepted is accepted, whatever the goodbye
            server.close()


def retry(conn: Connection, message_id: int) -> bool:
    """A message that stopped after MOST_ATTEMPTS is tried again (a person fixed the cause); False if none such."""
    statement = (
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.sent_at.is_(None), outbox.c.attempts >= MOST_ATTEMPTS)
        .values(attempts=0, claimed_until=None)
    )
    return conn.execute(statement).rowcount == 1


def forget(conn: Connection, recipient: str) -> None:
    """Remove every message to an address (its owner deleted their account)."""
    conn.execute(delete(outbox).where(outbox.c.recipient == recipient))
