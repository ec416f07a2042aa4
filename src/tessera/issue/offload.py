"""Store work off the event loop: a request's store calls and signatures in one worker-thread hop.

The hop is lean on purpose: every ``/token`` request takes it, and every step of it holds the
GIL that the event loop needs too. A call goes to one of a few daemon threads through a C-level
queue and its result comes back with one ``call_soon_threadsafe``, with none of the
``concurrent.futures`` machinery ``run_in_executor`` adds (a second future, its condition
variable, a callback chain between the two futures).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import os
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tessera.issue.provider import Provider

__all__ = ["WORKER_THREADS", "off_loop", "threads_for_store"]

P = ParamSpec("P")
T = TypeVar("T")

WORKER_THREADS = min(32, (os.cpu_count() or 1) + 4)  # as many as asyncio's default executor


def threads_for_store(store_url: str | None) -> int:
    """How many worker threads suit the store ``store_url`` names (None: the embedded SQLite).

    SQLite's calls are CPU in this process, as the signatures are: one thread per core keeps
    the cores busy, and more only contend for the GIL and rotate requests over per-thread
    connections whose page caches the last commit made stale (measured in docs/bench.md). A
    network store's calls wait on the network, so more threads than cores keep more in flight.
    """
    if store_url is None or store_url.startswith("sqlite:"):
        return max(2, os.cpu_count() or 1)
    return WORKER_THREADS


Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Workers:
    """Daemon threads running calls; each result goes back to its caller's loop.

    A call goes to the thread that became idle last (its own inbox), or waits in the backlog
    for the first thread done. Last-idle-first keeps a quiet provider on one warm thread: its
    store connection and caches stay hot instead of rotating over every thread's.
    """

    def __init__(self, count: int) -> None:
        self._count = count
        self._started = 0
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Job]] = []
        self._backlog: collections.deque[Job] = collections.deque()

    def submit(self, loop: asyncio.AbstractEventLoop, call: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``call``; the returned future (of ``loop``) completes with its result or error."""
        future: asyncio.Future[T] = loop.create_future()
        job: Job = (loop, future, call)
        start = False
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self._backlog.append(job)
                start = self._started < self._count
                self._started += start
        if inbox is not None:
            inbox.put(job)
        elif start:
            threading.Thread(target=self._serve, name=f"tessera-offload-{self._started}", daemon=True).start()
        return future

    def _serve(self) -> None:
        inbox: queue.SimpleQueue[Job] = queue.SimpleQueue()
        job = self._next(inbox)
        while True:
            loop, future, call = job if job is not None else inbox.get()
            result: Any = None
            error: BaseException | None = None
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting request as is
                error = exc
            job = self._next(inbox)  # idle again before the caller hears back, so its next call finds us
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the loop closed while the call ran: nobody awaits the answer
            del loop, future, call, result, error

    def _next(self, inbox: queue.SimpleQueue[Job]) -> Job | None:
        """The backlog's oldest call, or None having put ``inbox`` on the idle stack."""
        with self._lock:
            if self._backlog:
                return self._backlog.popleft()
            self._idle.append(inbox)
            return None


_POOLS: dict[int, _Workers] = {}
_POOLS_LOCK = threading.Lock()


def _pool(size: int) -> _Workers:
    pool = _POOLS.get(size)
    if pool is None:
        with _POOLS_LOCK:
            pool = _POOLS.setdefault(size, _Workers(size))
    return pool


async def off_loop(provider: Provider, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` on a worker thread, so the loop goes on.

    ``work`` is a request's synchronous unit of work (store calls, signatures): every store
    backend's driver blocks, so the async endpoints read the request on the loop and hand
    the rest here, in the caller's context (context variables included). With
    ``provider.settings.work_in_thread`` off (the Lambda handler: its container serves one
    request at a time, so no other request waits on the loop) it runs inline. The threads are
    ``provider.settings.work_threads`` (one pool per size, shared by the providers of a process).
    """
    if not provider.settings.work_in_thread:
        return work(*args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await _pool(provider.settings.work_threads).submit(asyncio.get_running_loop(), call)
