"""Fixtures for the provider tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.testing.idp import ProviderHarness


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """A provider on a fresh SQLite file, with clients spa/web/legacy/svc/jwt-client and users alice/bob."""
    harness = ProviderHarness(tmp_path)
    yield harness
    harness.store.close()
