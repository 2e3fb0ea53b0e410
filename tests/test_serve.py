"""`fabcity serve`: the parent hands connections to the workers in turn and replaces a dead one; searches in turn.

The serving processes do not depend on the database backend, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fabcity.web.turns import Turns
from servers import START_S, all_answering, free_port, kept_alive, served_by, serving, until, worker_pids


def test_turns_read_what_came_in_while_a_job_ran_before_the_next_job() -> None:
    """Work on the loop's thread would otherwise run back to back, blind to requests arriving meanwhile."""

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        incoming, client = socket.socketpair()
        incoming.setblocking(False)
        log: list[str] = []

        def read_request() -> None:
            incoming.recv(16)
            log.append("request read")

        loop.add_reader(incoming, read_request)

        def job(name: str) -> str:
            log.append(name)
            if name == "first":
                client.send(b"GET")  # a request comes in while the first job computes
            return name.upper()

        turns = Turns()
        try:
            answers = await asyncio.gather(turns.run(job, "first"), turns.run(job, "second"))
        finally:
            loop.remove_reader(incoming)
            incoming.close()
            client.close()
        assert answers == ["FIRST", "SECOND"]
        return log

    # in a thread of its own: the browser tests' Playwright keeps an event loop on the main thread
    with ThreadPoolExecutor(1) as thread:
        assert thread.submit(asyncio.run, scenario()).result() == ["first", "request read", "second"]


def _spread(port: int, workers: list[int], count: int) -> list[int]:
    """How `count` connections, all open at once, spread over the workers (sorted counts)."""
    connections = [kept_alive(port) for _ in range(count)]
    try:
        return sorted(served_by(workers, port, connections).values())
    finally:
        for connection in connections:
            connection.close()


@pytest.fixture
def two_workers(backends, tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`fabcity serve --workers 2` on a copy of the embedded dataset, once both workers answer."""
    with serving(backends.fresh("sqlite"), tmp_path / "serve.log") as server:
        yield server.process, server.port


def test_connections_are_handed_to_the_workers_in_turn(two_workers) -> None:
    """32 kept-alive connections, as browsers or a load balancer hold them: 16 on each worker."""
    server, port = two_workers
    workers = worker_pids(server.pid)
    assert _spread(port, workers, 32) == [16, 16]

    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_worker_that_dies_is_replaced(two_workers) -> None:
    server, port = two_workers
    victim, survivor = worker_pids(server.pid)
    os.kill(victim, signal.SIGKILL)
    # a connection handed over as it died dies with it, as it would with any crash: once the
    # parent has noticed (and reaped it), connections go to the survivor, then to both again
    until(lambda: not Path(f"/proc/{victim}").exists(), "the parent notices the dead worker")
    workers = all_answering(server, port)
    assert survivor in workers and victim not in workers
    assert _spread(port, workers, 8) == [4, 4]


def test_a_worker_that_cannot_start_stops_the_server(tmp_path) -> None:
    """Restarting it would fail the same way, forever: the server exits with uvicorn's start-up failure code.

    The database's folder is a regular file, so no worker can ever create or open it (a missing
    folder would not do: opening the database creates it, and the workers would start).
    """
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("a file where the database's folder should be\n", encoding="utf-8")
    environment = {**os.environ, "FABCITY_DB": str(not_a_folder / "fabcity.sqlite3")}
    program = f"from fabcity.web.server import serve; serve('127.0.0.1', {free_port()}, 2)"
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, timeout=START_S
    )
    assert result.returncode == 3, result.stderr
    assert "a worker could not start; stopping" in result.stderr
    assert not_a_folder.is_file()  # still a file: nothing was created in its place
