"""The delivery worker: every interval, the time-driven chores (e.g. booking reminders), then delivery.

Chores are passed in, so this core module knows no capability. A stop request (SIGTERM, set by the
command) ends the loop once the current round is done: a message being handed to the mail server
is finished and marked, never cut off between the server's answer and the mark. A database that
is briefly unreachable costs a round, not the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from fabcity.notify.outbox import deliver, worker_name
from fabcity.platform import Platform
from fabcity.settings import Smtp

Chore = Callable[[Platform, datetime], object]
log = logging.getLogger(__name__)


def run(platform: Platform, smtp: Smtp, interval_s: float, stop: threading.Event, chores: Sequence[Chore] = ()) -> None:
    """Loop until `stop` is set: the chores, then the delivery of what waits, then a pause of `interval_s`."""
    worker = worker_name()
    while not stop.is_set():
        try:
            for chore in chores:
                chore(platform, datetime.now(UTC))
            deliver(platform, smtp, worker)
        except OperationalError:
            log.exception("the database did not answer; trying again in %s s", interval_s)
        stop.wait(interval_s)
