"""Store work off the event loop: a request's store calls and signatures in one worker-thread hop.

The hop is lean on purpose: every ``/token`` request takes it, and every step of it holds the
GIL that the event loop needs too. A call goes to a few daemon threads through one C-level
queue and its result comes back with one ``call_soon_threadsafe``, with none of the
``concurrent.futures`` machinery ``run_in_executor`` adds (a second future, its condition
variable, a callback chain between the two futures).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tessera.issue.provider import Provider

__all__ = ["WORKER_THREADS", "off_loop"]

P = ParamSpec("P")
T = TypeVar("T")

WORKER_THREADS = min(32, (os.cpu_count() or 1) + 4)  # as many as asyncio's default executor

Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Workers:
    """Daemon threads running calls from one queue; each result goes back to its caller's loop."""

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._count = count
        self._started = 0
        self._lock = threading.Lock()

    def submit(self, loop: asyncio.AbstractEventLoop, call: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``call``; the returned future (of ``loop``) completes with its result or error."""
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, call))
        if self._started < self._count:
            self._start_one()
        return future

    def _start_one(self) -> None:
        with self._lock:
            if self._started >= self._count:
                return
            self._started += 1
        threading.Thread(target=self._serve, name=f"tessera-offload-{self._started}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            loop, future, call = self._jobs.get()
            result: Any = None
            error: BaseException | None = None
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting request as is
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the loop closed while the call ran: nobody awaits the answer
            del loop, future, call, result, error


_WORKERS = _Workers(WORKER_THREADS)


async def off_loop(provider: Provider, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` on a worker thread, so the loop goes on.

    ``work`` is a request's synchronous unit of work (store calls, signatures): every store
    backend's driver blocks, so the async endpoints read the request on the loop and hand
    the rest here, in the caller's context (context variables included). With
    ``provider.settings.work_in_thread`` off (the Lambda handler: its container serves one
    request at a time, so no other request waits on the loop) it runs inline.
    """
    if not provider.settings.work_in_thread:
        return work(*args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await _WORKERS.submit(asyncio.get_running_loop(), call)
