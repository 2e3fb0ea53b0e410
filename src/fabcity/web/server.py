"""`fabcity serve`: uvicorn, with one listening socket per worker process where Linux allows it.

uvicorn's own `--workers` lets every worker accept from one shared socket. Under a burst of new
connections the first worker to wake accepts all it can, so 32 clients' keep-alive connections
often ended up 28 to 4 on two workers, and the busy one set everyone's latency while the other
core idled. With SO_REUSEPORT each worker has a socket of its own on the same port and the
kernel spreads connections over them by address hash. The parent binds them all before any
worker starts (a taken port fails at once; no connection lands on a socket nobody will serve)
and keeps them, so a worker that dies is replaced on the same socket and the connections
waiting there are served by its successor.
"""

from __future__ import annotations

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

APP = "fabcity.web.api:app_from_environment"
_LOG_LEVEL = "warning"
_spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine or thread inherited


def serve(host: str, port: int, workers: int) -> None:
    """Serve the API and pages until interrupted (the database is named by FABCITY_DB)."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"):
        # elsewhere SO_REUSEPORT does not balance; uvicorn's shared socket is the portable way
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, log_level=_LOG_LEVEL)
        return
    sockets = [_listening_socket(host, port) for _ in range(workers)]
    running = [_Worker(sock) for sock in sockets]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    exit_code = 0
    while not stopping:
        wait([worker.process.sentinel for worker in running], timeout=0.5)  # a worker ends, or look again
        for index, worker in enumerate(running):
            if worker.process.is_alive():
                continue
            if not worker.ready.is_set():  # it could not start: another would fail alike
                print("fabcity: a worker could not start; stopping", file=sys.stderr)
                exit_code = STARTUP_FAILURE
                stopping = True
                break
            print(
                f"fabcity: worker {worker.process.pid} exited ({worker.process.exitcode}); starting another",
                file=sys.stderr,
            )
            running[index] = _Worker(worker.sock)
    for worker in running:
        if worker.process.is_alive():
            worker.process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for worker in running:
        worker.process.join(timeout=15)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
    if exit_code:
        sys.exit(exit_code)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)  # uvicorn's default backlog
    sock.set_inheritable(True)
    return sock


class _Worker:
    """A worker process serving one of the listening sockets; `ready` is set once it listens."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.ready = _spawn.Event()
        self.process: BaseProcess = _spawn.Process(target=_run_worker, args=(sock, self.ready))
        self.process.start()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


def _run_worker(sock: socket.socket, ready: Event) -> None:
    """uvicorn on this socket alone (SIGINT and SIGTERM stop it gracefully)."""
    _Server(uvicorn.Config(APP, factory=True, log_level=_LOG_LEVEL), ready).run(sockets=[sock])
