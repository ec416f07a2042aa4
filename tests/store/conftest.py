"""The store under test: a fresh SQLite file per test, and the fixed time the tests use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.store.sqlite import SQLiteStore

NOW = 1_800_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "store.db")
    yield db
    db.close()
