"""The ``tessera`` pytest plugin: fixtures for a local issuer served on 127.0.0.1, and a provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .http import LocalHTTPServer
from .issuer import LocalIssuer

if TYPE_CHECKING:
    from .idp import ProviderHarness


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    """A running :class:`LocalHTTPServer` with no routes."""
    with LocalHTTPServer() as server:
        yield server


@pytest.fixture
def local_issuer() -> Iterator[LocalIssuer]:
    """A running RS256 :class:`LocalIssuer`: discovery, JWKS and a token minter."""
    with LocalIssuer() as issuer:
        yield issuer


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """An in-process provider on a fresh SQLite file with a frozen clock (needs the ``idp`` extra)."""
    from .idp import ProviderHarness

    harness = ProviderHarness(tmp_path)
    yield harness
    harness.store.close()
