"""How many worker threads a provider's off-loop work gets: one per core on SQLite, more on a network."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.dev.provider import dev_provider
from tessera.issue.offload import WORKER_THREADS, off_loop, threads_for_store
from tessera.issue.settings import ProviderSettings


def test_sqlite_gets_one_thread_per_core_and_a_network_store_more() -> None:
    cores = max(2, os.cpu_count() or 1)
    assert threads_for_store(None) == threads_for_store("sqlite:///tmp/t.db") == cores
    assert threads_for_store("postgresql://u@h/db") == threads_for_store("dynamodb://t") == WORKER_THREADS


def test_tessera_dev_on_sqlite_uses_the_per_core_count(tmp_path: Path) -> None:
    setup = dev_provider(tmp_path / "data", "http://127.0.0.1:9")
    try:
        assert setup.provider.settings.work_threads == threads_for_store(None)
    finally:
        setup.provider.outgoing.stop()
        setup.provider.store.close()


def test_no_more_calls_run_at_once_than_the_provider_has_threads() -> None:
    settings = ProviderSettings(issuer="https://id.example.com", work_threads=3)
    provider: Any = type("P", (), {"settings": settings})()
    running = 0
    peak = 0
    lock = threading.Lock()

    def work() -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return threading.current_thread().name

    async def many() -> list[str]:
        return list(await asyncio.gather(*(off_loop(provider, work) for _ in range(12))))

    names = asyncio.run(many())
    assert peak == 3 and len(set(names)) == 3


@pytest.mark.parametrize("count", [0, 257])
def test_a_thread_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ConfigurationError, match="work_threads"):
        ProviderSettings(issuer="https://id.example.com", work_threads=count)


def test_calls_one_at_a_time_keep_to_the_thread_that_was_idle_last() -> None:
    settings = ProviderSettings(issuer="https://id.example.com", work_threads=5)
    provider: Any = type("P", (), {"settings": settings})()

    def slow() -> str:
        time.sleep(0.05)
        return threading.current_thread().name

    def name() -> str:
        return threading.current_thread().name

    async def burst_then_one_by_one() -> tuple[list[str], list[str]]:
        started = list(await asyncio.gather(*(off_loop(provider, slow) for _ in range(5))))
        await asyncio.sleep(0.2)  # every thread of the burst is idle again
        return started, [await off_loop(provider, name) for _ in range(10)]

    started, sequential = asyncio.run(burst_then_one_by_one())
    assert len(set(started)) == 5
    assert len(set(sequential)) == 1
