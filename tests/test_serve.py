"""`fabcity serve`: workers with listening sockets of their own, replaced when they die; searches in turn.

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


def _tcp_sockets(port: int, state: str, peers: set[int] | None = None) -> set[int]:
    """Inodes of this machine's IPv4 TCP sockets on local port `port` in a state (0A listen,
    01 established), and, if given, with a remote port among `peers`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
        if local == port and fields[3] == state and (peers is None or remote in peers):
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


def _workers(pid: int, port: int) -> dict[int, set[int]]:
    """The children of `pid` listening on `port`, with the listening socket inodes each holds."""
    listening = _tcp_sockets(port, "0A")
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            held = _socket_inodes(int(child)) & listening
        except FileNotFoundError:  # gone meanwhile
            continue
        if held:
            found[int(child)] = held
    return found


def _until(condition: Callable[[], object], what: str, timeout: float = START_S) -> object:
    """Poll (a worker's start is minutes at worst in CI) until `condition` gives something true."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)
    return result


def _get(port: int) -> int:
    """GET /healthz on a new connection (one that lands on a worker still starting waits for it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=START_S)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    finally:
        connection.close()


def _kept_alive(port: int) -> http.client.HTTPConnection:
    """A connection that has been answered once and stays open, as a browser keeps it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=START_S)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    return connection


def _served_by(pids: Iterable[int], port: int, connections: list[http.client.HTTPConnection]) -> dict[int, int]:
    """How many of these open connections each of these workers holds."""
    established = _tcp_sockets(port, "01", {connection.sock.getsockname()[1] for connection in connections})
    return {pid: len(_socket_inodes(pid) & established) for pid in pids}


@pytest.fixture
def two_workers(backends, tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`fabcity serve --workers 2` on a copy of the embedded dataset, once both workers listen."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [FABCITY, "serve", "--port", str(port), "--workers", "2", "--db", backends.fresh("sqlite")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _until(lambda: len(_workers(server.pid, port)) == 2 or server.poll() is not None, "two workers listening")
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        # a worker holds its socket before it has started: wait until both have answered
        workers, connections = list(_workers(server.pid, port)), []
        while not all(_served_by(workers, port, connections).values()):
            assert len(connections) < 64, "64 connections, all on one worker"
            connections.append(_kept_alive(port))
        for connection in connections:
            connection.close()
        yield server, port
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        log.close()


def test_each_worker_listens_on_a_socket_of_its_own(two_workers) -> None:
    server, port = two_workers
    workers = _workers(server.pid, port)
    held = list(workers.values())
    assert len(held) == 2 and all(len(inodes) == 1 for inodes in held)
    assert held[0] != held[1], "both workers accept from one shared socket"
    assert _tcp_sockets(port, "0A") == held[0] | held[1]

    # keep-alive connections, as a browser or a load balancer holds them: the kernel spreads
    # them over the two sockets, so both workers serve some
    connections = [_kept_alive(port) for _ in range(32)]
    try:
        served = _served_by(workers, port, connections)
        assert sum(served.values()) == 32
        assert all(count > 0 for count in served.values()), served
    finally:
        for connection in connections:
            connection.close()

    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_worker_that_dies_is_replaced_on_the_same_socket(two_workers) -> None:
    server, port = two_workers
    before = _workers(server.pid, port)
    victim, its_socket = next(iter(before.items()))
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        now = _workers(server.pid, port)
        return len(now) == 2 and victim not in now and its_socket in now.values()

    _until(replaced, "a new worker on the dead one's socket")
    # new connections land on either socket, the replacement's included
    assert [_get(port) for _ in range(16)] == [200] * 16


def test_a_worker_that_cannot_start_stops_the_server(tmp_path) -> None:
    """Restarting it would fail the same way, forever: the server exits with uvicorn's start-up failure code."""
    environment = {**os.environ, "FABCITY_DB": str(tmp_path / "no such folder" / "fabcity.sqlite3")}
    program = f"from fabcity.web.server import serve; serve('127.0.0.1', {_free_port()}, 2)"
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, timeout=START_S
    )
    assert result.returncode == 3, result.stderr
    assert "a worker could not start; stopping" in result.stderr
