"""Opening a ``tessera dev`` data directory from the admin commands, with one-line errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import ConfigurationError
from ..store.sqlite import SQLiteStore

__all__ = ["open_store"]


def open_store(data: str | Path) -> SQLiteStore:
    """The store of the installation in ``data``; ConfigurationError when there is none or it is unusable."""
    root = Path(data)
    database = root / "tessera.db"
    if not root.is_dir():
        raise ConfigurationError(f"{root} is not a data directory; run `tessera dev --data {root}` first")
    if not database.is_file():
        raise ConfigurationError(f"no provider data in {root}; run `tessera dev --data {root}` first")
    try:
        store = SQLiteStore(database)
        store.list_clients()
    except sqlite3.Error as exc:
        raise ConfigurationError(f"{database} is not a usable Tessera database ({exc})") from None
    return store
