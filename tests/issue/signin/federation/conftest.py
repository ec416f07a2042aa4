"""Fixtures: a provider (in process) and fake upstreams on real HTTP sharing its clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.testing.idp import ProviderHarness
from tessera.testing.issuer import LocalIssuer
from tessera.testing.upstream import FakeUpstream

from .harness import Walk, configure, oidc_entry, register


@pytest.fixture
def idp(tmp_path: Path, fresh_jwks_registry: None) -> Iterator[ProviderHarness]:
    """The provider, with an empty JWKS registry (each test's upstream has new keys and ports)."""
    harness = ProviderHarness(tmp_path)
    yield harness
    harness.store.close()


@pytest.fixture
def corp(idp: ProviderHarness) -> Iterator[FakeUpstream]:
    """An OpenID upstream found by discovery, configured as ``corp`` and registered for its callback."""
    with FakeUpstream(LocalIssuer(), clock=idp.clock) as fake:
        register(fake, idp)
        configure(idp, oidc_entry(fake))
        yield fake


@pytest.fixture
def walk(idp: ProviderHarness) -> Walk:
    """The main browser's walk."""
    return Walk(idp, idp.browser)
