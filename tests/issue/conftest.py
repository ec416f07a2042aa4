"""The shared provider of the fuzz tests (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fuzz_live import Live, open_live


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One provider for a fuzz module: see :mod:`tests.issue.fuzz_live`."""
    fuzzed = open_live(tmp_path_factory.mktemp("fuzz"))
    yield fuzzed
    fuzzed.idp.close()
