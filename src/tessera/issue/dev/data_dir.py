"""The ``tessera dev`` data directory: made on first start, and refused in one line when unusable."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from tessera.errors import ConfigurationError
from tessera.store.sqlite import SQLiteStore

__all__ = ["DEV_USER", "open_data_directory", "open_dev_store", "read_dev_config"]

DEV_USER = "dev@example.com"  # seeded, with the admin role, while a dev installation has no users
_ALGORITHMS = ("RS256", "ES256", "EdDSA")


def open_data_directory(root: Path) -> None:
    """Create ``root`` (owner-only) if needed; ConfigurationError when it cannot be used."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
    except FileExistsError:
        raise ConfigurationError(f"--data {root} is a file, not a directory") from None
    except OSError as exc:
        raise ConfigurationError(f"--data {root} cannot be used: {exc.strerror or exc}") from None
    if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigurationError(f"--data {root} cannot be used: not readable and writable by you")


def read_dev_config(path: Path, signing_alg: str | None) -> dict[str, Any]:
    """The data directory's ``config.json`` (the signing algorithm chosen on first start)."""
    if not path.exists():
        return {"signing_alg": signing_alg or "RS256"}
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"{path} is not readable JSON ({exc}); fix it or remove it") from None
    if not isinstance(config, dict) or config.get("signing_alg") not in _ALGORITHMS:
        raise ConfigurationError(
            f"{path} must be a JSON object whose signing_alg is one of {', '.join(_ALGORITHMS)}"
        )
    return config


def open_dev_store(path: Path) -> SQLiteStore:
    """The SQLite store in ``path``; ConfigurationError when the file is not a usable database."""
    try:
        store = SQLiteStore(path)
        store.list_signing_keys()
    except sqlite3.Error as exc:
        raise ConfigurationError(f"{path} is not a usable Tessera database ({exc})") from None
    return store
