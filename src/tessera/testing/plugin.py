"""The ``tessera`` pytest plugin: a local issuer served on 127.0.0.1, and a clean JWKS registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .http import LocalHTTPServer
from .issuer import LocalIssuer


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
