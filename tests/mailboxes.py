"""A real SMTP server on this machine (aiosmtpd) for the tests, which read what it accepted.

It can hold a message in DATA, before its answer, until the test releases it: a worker is then
caught in the middle of a delivery, where a kill is the interesting case.
"""

from __future__ import annotations

import asyncio
import email
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from fabcity.settings import Smtp
from servers import START_S, free_port


class Inbox:
    """An aiosmtpd handler: the messages the server accepted (answered 250), parsed."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.hold = False
        """While true, DATA waits until `released`, then refuses (451): the message was never accepted."""
        self.holding = threading.Event()
        self.released = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        if self.hold:
            self.holding.set()
            await asyncio.to_thread(self.released.wait, START_S)
            return "451 4.3.0 not accepted: the test held it"
        with self._lock:
            self.received.append(email.message_from_bytes(envelope.original_content, policy=default))
        return "250 OK"

    def ids(self) -> list[str]:
        """The Message-IDs received, one per delivery (a message sent twice appears twice)."""
        with self._lock:
            return [message["Message-ID"] for message in self.received]


@contextmanager
def mail_server() -> Iterator[tuple[Smtp, Inbox]]:
    """An SMTP server on 127.0.0.1 for one test: the settings that reach it, and what it accepted."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Smtp(host="127.0.0.1", port=controller.port, sender="noreply@fabcity.example.kr"), inbox
    finally:
        inbox.released.set()
        controller.stop()
