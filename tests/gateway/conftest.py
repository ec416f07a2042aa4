"""Fixtures for the gateway tests: a settable clock and a gateway served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tessera.gateway import Gateway, GatewayServer
from tessera.gateway.config import gateway_config_from_mapping
from tessera.gateway.invoke import Invoker

APPS = Path(__file__).parent / "apps"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at a fixed instant."""
    return FakeClock()


ServeGateway = Callable[..., GatewayServer]


@pytest.fixture
def serve_gateway(clock: FakeClock) -> Iterator[ServeGateway]:
    """Start a gateway for a routes document (handlers from tests/gateway/apps); stops them after."""
    servers: list[GatewayServer] = []

    def serve(document: Mapping[str, Any], *, invoker: Invoker | None = None) -> GatewayServer:
        config = gateway_config_from_mapping(document, APPS)
        server = GatewayServer(Gateway(config, invoker=invoker, clock=clock)).start()
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()
