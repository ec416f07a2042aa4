"""Shared fixtures for verifier tests: offline issuers (RS256 and ES256) and a verifier factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera import Verifier
from tessera.testing import LocalIssuer

ISSUER = "https://issuer.test"
NOW = 1_800_000_000.0

MakeVerifier = Callable[..., Verifier]


@pytest.fixture(scope="module")
def rsa_issuer() -> LocalIssuer:
    """An offline RS256 issuer with two published keys (current and next)."""
    issuer = LocalIssuer("RS256", url=ISSUER)
    issuer.add_key()
    return issuer


@pytest.fixture(scope="module")
def ec_issuer() -> LocalIssuer:
    """An offline ES256 issuer."""
    return LocalIssuer("ES256", url=ISSUER)


@pytest.fixture
def make_verifier() -> MakeVerifier:
    """Build a Verifier for an issuer's JWKS at the fixed clock NOW, with the cache off by default."""

    def make(issuer: LocalIssuer, **options: Any) -> Verifier:
        settings: dict[str, Any] = {
            "issuer": issuer.issuer,
            "audience": "api",
            "token_type": "at+jwt",
            "jwks": issuer.jwks(),
            "cache_size": 0,
            "clock": lambda: NOW,
        }
        settings.update(options)
        return Verifier(**settings)

    return make
