"""Blocking work run on the event loop's own thread, one job at a time, in the order requests came."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

P = ParamSpec("P")
T = TypeVar("T")


class Turns:
    """Searches take their turn on the loop's thread instead of going to a thread pool.

    A search is a millisecond or two of CPU in this process (SQLite) or a round trip or two plus
    decoding (PostgreSQL). Handing it to a worker thread cost 0.4 ms of CPU a request in thread
    switches and GIL contention, a fifth of the whole (bench/http_bench.py, 100,000 nodes).
    Run on the loop itself, though, work is served in batches: asyncio runs every ready task
    before it reads its sockets again, so a request that came in just after a read waited for the
    whole batch and then for the next, and a few connections saw twice everyone else's latency.
    So each job first lets the loop go round once: the requests read meanwhile queue behind the
    lock, whose waiters are woken in the order they came.
    """

    def __init__(self) -> None:
        # one lock per event loop: a test client runs the app on loops of its own
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        async with lock:
            await asyncio.sleep(0)  # one round of the loop: read what has come in meanwhile
            return work(*args, **kwargs)
