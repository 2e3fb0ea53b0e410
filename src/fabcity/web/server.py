"""`fabcity serve`: uvicorn worker processes, handed connections in turn by the parent.

uvicorn's own `--workers` lets every worker accept from one shared socket. Under a burst of new
connections the first worker to wake accepts all it can, so 32 clients' keep-alive connections
often ended up 28 to 4 on two workers, and the busy one set everyone's latency while the other
core idled. One SO_REUSEPORT socket per worker was better but still uneven: the kernel spreads
connections by a hash of their addresses, and 20 to 12 was common. So the parent accepts every
connection itself and passes it (SCM_RIGHTS, over a Unix socket pair per worker) to the workers
in turn, as Node's cluster module does by default: 32 connections are 16 and 16. It hands them
only to workers that have started, so a connection made while a worker starts or restarts waits
in the listen backlog or goes to another. A worker that dies is replaced; one that dies before
it ever started stops the server, since another would fail alike.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

APP = "fabcity.web.app:app_from_environment"
_LOG_LEVEL = "warning"
_BACKLOG = 2048  # uvicorn's default
# uvicorn would believe X-Forwarded-For from any loopback client; the app reads it only from the
# proxies FABCITY_TRUSTED_PROXIES names (web.auth.client_address)
_PROXY_HEADERS = False
_spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine or thread inherited


def serve(host: str, port: int, workers: int) -> None:
    """Serve the API and pages until interrupted (the database is named by FABCITY_DB)."""
    if workers == 1 or not hasattr(socket, "send_fds"):
        uvicorn.run(
            APP, factory=True, host=host, port=port, workers=workers, log_level=_LOG_LEVEL, proxy_headers=_PROXY_HEADERS
        )
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=_BACKLOG)
    listener.setblocking(False)
    running = [_Worker() for _ in range(workers)]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    exit_code, turn = 0, 0
    while not stopping:
        ready = [worker for worker in running if worker.ready.is_set()]
        # accept only when a worker can take the connection; until then it waits in the backlog
        watched = [worker.process.sentinel for worker in running] + ([listener] if ready else [])
        if listener in wait(watched, timeout=0.5):  # or a worker has ended, or it is time to look again
            try:
                connection, _ = listener.accept()
            except (BlockingIOError, ConnectionAbortedError):  # the client gave up before it was accepted
                continue
            turn = _hand_over(connection, ready, turn)
        for index, worker in enumerate(running):
            if worker.process.is_alive():
                continue
            if not worker.ready.is_set():
                print("fabcity: a worker could not start; stopping", file=sys.stderr)
                exit_code, stopping = STARTUP_FAILURE, True
                break
            print(
                f"fabcity: worker {worker.process.pid} exited ({worker.process.exitcode}); starting another",
                file=sys.stderr,
            )
            worker.channel.close()
            running[index] = _Worker()
    listener.close()
    for worker in running:
        worker.channel.close()  # a worker reads the end of its channel as the signal to stop
        if worker.process.is_alive():
            worker.process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for worker in running:
        worker.process.join(timeout=15)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
    if exit_code:
        sys.exit(exit_code)


def _hand_over(connection: socket.socket, ready: list[_Worker], turn: int) -> int:
    """Pass the connection to the next worker in turn (or the one after, if that one is gone)."""
    try:
        for attempt in range(len(ready)):
            worker = ready[(turn + attempt) % len(ready)]
            try:
                socket.send_fds(worker.channel, [b"c"], [connection.fileno()])
            except OSError:  # it has just died (the main loop replaces it) or is not reading: the next
                continue
            return (turn + attempt + 1) % len(ready)
        return turn
    finally:
        connection.close()  # the worker holds its own copy now


class _Worker:
    """A worker process, the parent's end of the channel it is handed connections on, and
    `ready`, set once its app has started."""

    def __init__(self) -> None:
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.channel.setblocking(False)  # a worker that stops reading must not stop the parent
        self.ready = _spawn.Event()
        self.process: BaseProcess = _spawn.Process(target=_run_worker, args=(theirs, self.ready))
        self.process.start()
        theirs.close()


class _Server(uvicorn.Server):
    """uvicorn serving the connections that arrive on a channel instead of a listening socket."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket, ready: Event) -> None:
        super().__init__(config)
        self.channel, self.ready = channel, ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app, and no listener of its own (a failure exits)
        loop = asyncio.get_running_loop()
        self.channel.setblocking(False)
        loop.add_reader(self.channel, self._take_connection, loop)
        self.ready.set()

    def _take_connection(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            _, fds, _, _ = socket.recv_fds(self.channel, 1, 1)
        except BlockingIOError:
            return
        if not fds:  # the parent has gone or is stopping
            loop.remove_reader(self.channel)
            self.should_exit = True
            return
        connection = socket.socket(fileno=fds[0])
        connection.setblocking(False)
        loop.create_task(loop.connect_accepted_socket(self._protocol, connection))

    def _protocol(self) -> asyncio.Protocol:
        """What uvicorn's own startup makes for each connection it accepts."""
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )


def _run_worker(channel: socket.socket, ready: Event) -> None:
    """uvicorn on the connections the parent hands over (SIGINT and SIGTERM stop it gracefully)."""
    config = uvicorn.Config(APP, factory=True, log_level=_LOG_LEVEL, proxy_headers=_PROXY_HEADERS)
    _Server(config, channel, ready).run()
