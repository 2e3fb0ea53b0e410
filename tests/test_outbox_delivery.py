"""Delivery never sends a message twice nor loses one: a lease taken by compare-and-swap, workers killed
in the middle of a delivery, workers racing, on both backends, to a real local SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from fabcity.notify import outbox, worker
from fabcity.storage.schema import outbox as outbox_table
from servers import FABCITY, START_S, until


def _queue(platform, count: int) -> list[str]:
    """`count` messages to different people; their Message-IDs."""
    with platform.engine.begin() as conn:
        for number in range(count):
            outbox.queue(conn, f"p{number}@example.kr", f"안내 {number} / Notice {number}", "본문\n\nBody")
        return list(conn.execute(select(outbox_table.c.message_id).order_by(outbox_table.c.id)).scalars())


def _stored(platform) -> list[outbox.Message]:
    with platform.engine.connect() as conn:
        return outbox.messages(conn, limit=1000)


def _worker(db_url: str, smtp, interval: str = "0.05") -> subprocess.Popen:
    """`fabcity worker` in its own process, sending to `smtp`, once it has said it runs (its signals are set)."""
    env = {**os.environ, "FABCITY_SMTP_HOST": smtp.host, "FABCITY_SMTP_PORT": str(smtp.port)}
    command = [FABCITY, "worker", "--db", db_url, "--interval", interval]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started = process.stdout.readline().decode()  # the empty string if it stopped instead
    assert started.startswith("fabcity worker: a round every"), started
    return process


def test_a_message_carries_its_own_message_id_on_every_try(platform, mail):
    smtp, inbox = mail
    (queued,) = _queue(platform, 1)
    assert outbox.deliver(platform, smtp) == 1
    assert inbox.ids() == [queued] and queued.endswith("@fabcity>")


def test_a_taken_message_is_left_to_its_worker_until_the_lease_ends(platform, mail):
    smtp, inbox = mail
    (queued,) = _queue(platform, 1)
    (row,) = _stored(platform)
    assert outbox.take(platform, row.id, "gone-worker") is not None  # a worker took it, then vanished
    assert outbox.take(platform, row.id, "other") is None
    assert outbox.deliver(platform, smtp) == 0 and inbox.ids() == []
    assert outbox.deliver(platform, smtp, at=datetime.now(UTC) + outbox.LEASE + timedelta(seconds=1)) == 1
    assert inbox.ids() == [queued]
    (row,) = _stored(platform)
    assert row.attempts == 2 and row.sent_at is not None and row.claimed_until is None


def test_a_failure_is_counted_and_retried_later_and_after_the_last_try_it_waits_for_a_person(platform, mail):
    smtp, inbox = mail
    (queued,) = _queue(platform, 1)
    inbox.hold = True
    inbox.released.set()  # every DATA is answered 451 at once
    now = datetime.now(UTC)
    for attempt in range(outbox.MOST_ATTEMPTS):
        assert outbox.deliver(platform, smtp, at=now) == 0
        (row,) = _stored(platform)
        assert row.attempts == attempt + 1 and "451" in row.last_error
        assert outbox.deliver(platform, smtp, at=now) == 0  # too soon to try again
        now = row.claimed_until + timedelta(seconds=1)
    assert outbox.deliver(platform, smtp, at=now) == 0  # the pause ended, but it waits for a person
    assert _stored(platform)[0].attempts == outbox.MOST_ATTEMPTS
    inbox.hold = False
    with platform.engine.begin() as conn:
        assert outbox.retry(conn, row.id) and not outbox.retry(conn, row.id)
    assert outbox.deliver(platform, smtp) == 1 and inbox.ids() == [queued]


def test_a_worker_killed_in_the_middle_of_a_delivery_loses_nothing_and_the_next_sends_it_once(platform, db_url, mail):
    smtp, inbox = mail
    (queued,) = _queue(platform, 1)
    inbox.hold = True
    worker = _worker(db_url, smtp)
    try:
        until(inbox.holding.is_set, "the worker handing the message over", START_S)
    finally:
        worker.kill()  # SIGKILL: before the server's answer to the data
        worker.wait(timeout=START_S)
    inbox.hold = False
    inbox.released.set()
    (row,) = _stored(platform)
    assert row.sent_at is None and row.attempts == 1 and row.claimed_until is not None  # not lost
    assert outbox.deliver(platform, smtp) == 0 and inbox.ids() == []  # its lease still stands
    after_lease = datetime.now(UTC) + outbox.LEASE + timedelta(seconds=1)
    assert outbox.deliver(platform, smtp, at=after_lease) == 1
    assert outbox.deliver(platform, smtp, at=after_lease) == 0
    assert inbox.ids() == [queued]


def test_two_worker_processes_racing_send_each_message_exactly_once_and_stop_on_sigterm(platform, db_url, mail):
    smtp, inbox = mail
    queued = _queue(platform, 40)
    workers = [_worker(db_url, smtp), _worker(db_url, smtp)]
    try:
        until(lambda: all(row.sent_at for row in _stored(platform)), "every message sent", START_S)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=START_S)[0].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert sorted(inbox.ids()) == sorted(queued)
    assert all(row.attempts == 1 for row in _stored(platform))


def test_deliveries_started_together_in_threads_send_each_message_exactly_once(platform, mail):
    smtp, inbox = mail
    queued = _queue(platform, 30)
    barrier = threading.Barrier(4, timeout=START_S)

    def delivery(_: int) -> int:
        barrier.wait()
        return outbox.deliver(platform, smtp)

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(delivery, range(4))) == 30
    assert sorted(inbox.ids()) == sorted(queued)


def test_a_round_in_which_the_database_did_not_answer_costs_the_round_not_the_worker(platform, mail):
    smtp, inbox = mail
    (queued,) = _queue(platform, 1)
    stop, rounds = threading.Event(), []

    def chore(_platform, _now: datetime) -> None:
        rounds.append(_now)
        if len(rounds) == 1:
            raise OperationalError("SELECT 1", {}, ConnectionError("the database restarts"))
        stop.set()  # the second round still delivers, then the loop ends

    worker.run(platform, smtp, 0.01, stop, chores=(chore,))
    assert len(rounds) == 2 and inbox.ids() == [queued]
