"""`fabcity serve`: the parent hands connections to the workers in turn and replaces a dead one; searches in turn.

The serving processes do not depend on the database backend, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fabcity.web.turns import Turns

FABCITY = str(Path(sys.executable).parent / "fabcity")
START_S = 120  # a worker opens the database and builds its indexes before it listens


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_side(port: int, connections: list[http.client.HTTPConnection]) -> set[int]:
    """Socket inodes of the server's ends of these open client connections (from /proc/net/tcp)."""
    peers = {connection.sock.getsockname()[1] for connection in connections}
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
        if local == port and remote in peers and fields[3] == "01":  # 01: established
            inodes.add(int(fields[9]))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _workers(pid: int) -> list[int]:
    """The worker processes among the children of `pid` (not multiprocessing's resource tracker)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:  # gone meanwhile
            continue
        if b"multiprocessing.spawn" in command:
            found.append(int(child))
    return found


def _until(condition: Callable[[], object], what: str, timeout: float = START_S) -> object:
    """Poll (a worker's start is minutes at worst in CI) until `condition` gives something true."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)
    return result


def _kept_alive(port: int) -> http.client.HTTPConnection:
    """A connection that has been answered once and stays open, as a browser keeps it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=START_S)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    return connection


def _served_by(workers: Iterable[int], port: int, connections: list[http.client.HTTPConnection]) -> dict[int, int]:
    """How many of these open connections each worker holds."""
    server_side = _server_side(port, connections)
    return {pid: len(_socket_inodes(pid) & server_side) for pid in workers}


def _spread(port: int, workers: list[int], count: int) -> list[int]:
    """How `count` connections, all open at once, spread over the workers (sorted counts)."""
    connections = [_kept_alive(port) for _ in range(count)]
    try:
        return sorted(_served_by(workers, port, connections).values())
    finally:
        for connection in connections:
            connection.close()


def _all_answering(server: subprocess.Popen, port: int, workers: int = 2) -> list[int]:
    """The workers, once there are `workers` of them and each has answered on a new connection
    (until a worker has started, the parent hands connections to the others)."""
    answered: set[int] = set()

    def all_answered() -> list[int] | None:
        assert server.poll() is None, "the server stopped"
        current = _workers(server.pid)
        if len(current) == workers:
            connection = _kept_alive(port)
            answered.update(pid for pid, count in _served_by(current, port, [connection]).items() if count)
            connection.close()
        return current if len(current) == workers and answered >= set(current) else None

    return _until(all_answered, f"{workers} workers answering")


@pytest.fixture
def two_workers(backends, tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`fabcity serve --workers 2` on a copy of the embedded dataset, once both workers answer."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [FABCITY, "serve", "--port", str(port), "--workers", "2", "--db", backends.fresh("sqlite")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _all_answering(server, port)
        yield server, port
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        log.close()


def test_connections_are_handed_to_the_workers_in_turn(two_workers) -> None:
    """32 kept-alive connections, as browsers or a load balancer hold them: 16 on each worker."""
    server, port = two_workers
    workers = _workers(server.pid)
    assert _spread(port, workers, 32) == [16, 16]

    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_worker_that_dies_is_replaced(two_workers) -> None:
    server, port = two_workers
    victim, survivor = _workers(server.pid)
    os.kill(victim, signal.SIGKILL)
    # a connection handed over as it died dies with it, as it would with any crash: once the
    # parent has noticed (and reaped it), connections go to the survivor, then to both again
    _until(lambda: not Path(f"/proc/{victim}").exists(), "the parent notices the dead worker")
    workers = _all_answering(server, port)
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
    program = f"from fabcity.web.server import serve; serve('127.0.0.1', {_free_port()}, 2)"
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, timeout=START_S
    )
    assert result.returncode == 3, result.stderr
    assert "a worker could not start; stopping" in result.stderr
    assert not_a_folder.is_file()  # still a file: nothing was created in its place
