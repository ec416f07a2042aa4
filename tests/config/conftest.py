"""A valid ``tessera.toml`` (the issue's example) and a way to write variants of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .sample import SECRET, VALID

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteConfig:
    """Write ``text`` (default: the valid file) as ``tmp_path/tessera.toml``, with its secret set."""
    for name in (
        "TESSERA_CONFIG",
        "TESSERA_ISSUER",
        "TESSERA_AUDIENCE",
        "TESSERA_JWKS_FILE",
        "TESSERA_SIGNUP",
        "TESSERA_PROVIDER_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERS_SERVICE_SECRET", SECRET)

    def write(text: str = VALID, name: str = "tessera.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
