"""The ``tessera`` pytest plugin: fixtures for a local issuer served on 127.0.0.1."""

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
