"""The ``tessera`` pytest plugin: a local issuer on 127.0.0.1, a clean JWKS registry, and a provider."""

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
def fresh_jwks_registry() -> Iterator[None]:
    """An empty process-wide remote JWKS registry for the test, emptied again afterwards."""
    from ..verify.jwks import _reset_registry

    _reset_registry()
    yield
    _reset_registry()


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """An in-process provider on a fresh SQLite file with a frozen clock (needs the ``idp`` extra)."""
    from .idp import ProviderHarness

    harness = ProviderHarness(tmp_path)
    yield harness
    harness.store.close()
