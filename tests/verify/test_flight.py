"""Single-flight: one run at a time, shared by threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tessera.verify.flight import SingleFlight


class GatedWork:
    """Work that blocks until released, counting how often it ran."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.runs += 1
        self.started.set()
        if not self.release.wait(timeout=5):
            raise TimeoutError("never released")


async def test_async_callers_join_a_run_started_by_a_thread() -> None:
    flight = SingleFlight()
    work, other = GatedWork(), GatedWork()
    leader = threading.Thread(target=flight.run, args=(work,))
    leader.start()
    assert work.started.wait(timeout=5)

    followers = [asyncio.create_task(flight.arun(other)) for _ in range(20)]
    await asyncio.sleep(0)  # every follower has joined (joining happens before its first await)
    assert flight.busy
    work.release.set()
    await asyncio.gather(*followers)
    leader.join(timeout=5)

    assert (work.runs, other.runs) == (1, 0)
    assert not flight.busy


async def test_cancelling_the_async_leader_does_not_cancel_the_run() -> None:
    flight = SingleFlight()
    work = GatedWork()
    leader = asyncio.create_task(flight.arun(work))
    await asyncio.sleep(0)
    follower = asyncio.create_task(flight.arun(GatedWork()))
    await asyncio.sleep(0)
    assert await asyncio.to_thread(work.started.wait, 5)

    leader.cancel()
    await asyncio.sleep(0)
    work.release.set()
    await follower

    assert leader.cancelled()
    assert work.runs == 1


async def test_an_error_in_the_work_reaches_every_waiter_and_the_next_run_starts_afresh() -> None:
    flight = SingleFlight()
    started = threading.Event()
    release = threading.Event()

    def broken() -> None:
        started.set()
        release.wait(timeout=5)
        raise RuntimeError("boom")

    leader = asyncio.create_task(flight.arun(broken))
    await asyncio.sleep(0)
    follower = asyncio.create_task(flight.arun(GatedWork()))
    await asyncio.sleep(0)
    release.set()

    for task in (leader, follower):
        with pytest.raises(RuntimeError):
            await task
    ran: list[int] = []
    flight.run(lambda: ran.append(1))
    assert ran == [1]


def test_sequential_runs_each_do_the_work() -> None:
    flight = SingleFlight()
    ran: list[int] = []

    for _ in range(3):
        flight.run(lambda: ran.append(1))

    assert ran == [1, 1, 1]
    assert not flight.busy
