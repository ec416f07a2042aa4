"""Shared helpers for the provider preset tests: a frozen clock and rejection assertions."""

from __future__ import annotations

from typing import Any, Protocol

import pytest

from tessera.errors import Reason, TokenError
from tessera.testing import LocalIssuer
from tessera.verify import Claims, KeySet

NOW = 1_800_000_000.0


def clock() -> float:
    """The frozen time every preset test runs at."""
    return NOW


class AnyVerifier(Protocol):
    def verify(self, token: str | bytes) -> Claims: ...


def rejected(verifier: AnyVerifier, token: str, reason: Reason, claim: str | None = None) -> TokenError:
    """Assert that ``verifier`` refuses ``token`` for ``reason`` (and ``claim``); return the error."""
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason is reason, caught.value
    if claim is not None:
        assert caught.value.claim == claim
    assert caught.value.status == 401
    return caught.value


def jwks_keys(issuer: LocalIssuer) -> KeySet:
    """The issuer's published JWKS as a static key set."""
    return KeySet.from_jwks(issuer.jwks())


def sign_as(issuer: LocalIssuer, claims: dict[str, Any], **header: Any) -> str:
    """Sign ``claims`` with the issuer's key, with typ "JWT" as every provider here sends it."""
    return issuer.mint(claims, typ="JWT", header=header or None)
