"""Single-flight: one piece of work in progress at a time, shared by threads and asyncio tasks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

__all__ = ["SingleFlight"]


class SingleFlight:
    """Runs ``work`` unless a run is already in progress, in which case the caller waits for it.

    Sync callers run the work in their own thread; async callers hand it to a new thread so
    the loop never blocks. Either way every concurrent caller, sync or async,
    waits on the same run. Cancelling an async caller does not cancel the run.
    """

    __slots__ = ("_current", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Future[None] | None = None

    @property
    def busy(self) -> bool:
        """True while a run is in progress."""
        return self._current is not None

    def run(self, work: Callable[[], None]) -> None:
        """Run ``work``, or wait for the run in progress."""
        flight, leader = self._join()
        if leader:
            self._lead(flight, work)
        flight.result()

    async def arun(self, work: Callable[[], None]) -> None:
        """Run ``work`` in a worker thread, or wait for the run in progress, without blocking."""
        import asyncio  # imported here: a sync-only cold start should not pay for asyncio

        flight, leader = self._join()
        if leader:
            # A thread of its own, not the loop's executor: sync waiters may fill that executor.
            threading.Thread(
                target=self._lead, args=(flight, work), name="tessera-fetch", daemon=True
            ).start()
        await asyncio.wrap_future(flight)

    def _join(self) -> tuple[Future[None], bool]:
        with self._lock:
            if self._current is not None:
                return self._current, False
            flight: Future[None] = Future()
            flight.set_running_or_notify_cancel()  # a running future cannot be cancelled by a waiter
            self._current = flight
            return flight, True

    def _lead(self, flight: Future[None], work: Callable[[], None]) -> None:
        error: BaseException | None = None
        try:
            work()
        except BaseException as exc:
            error = exc
        finally:
            with self._lock:
                self._current = None
        if error is None:
            flight.set_result(None)
        else:
            flight.set_exception(error)
