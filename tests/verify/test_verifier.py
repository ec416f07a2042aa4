"""The verifier end to end, per algorithm, with a bundled JWKS."""

from __future__ import annotations

import time

import pytest

from tessera import ANY, TokenError, Verifier
from tessera.errors import Reason
from tessera.testing import LocalIssuer

ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_each_algorithm_accepts_genuine_and_rejects_tampered(alg: str) -> None:
    issuer = LocalIssuer(alg, url="https://issuer.test")
    verifier = Verifier(issuer=issuer.issuer, audience="api", token_type="at+jwt", jwks=issuer.jwks())
    token = issuer.mint(sub="alice", scope="orders:read orders:write")

    claims = verifier.verify(token)

    assert claims.subject == "alice"
    assert claims.scopes == {"orders:read", "orders:write"}
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(TokenError) as caught:
        verifier.verify(f"{head}.{payload}.{flipped}")
    assert caught.value.reason is Reason.BAD_SIGNATURE
    assert caught.value.error == "invalid_token"


def test_expired_token_is_rejected_and_fresh_one_accepted() -> None:
    issuer = LocalIssuer(url="https://issuer.test")
    verifier = Verifier(issuer=issuer.issuer, audience=ANY, token_type=ANY, jwks=issuer.jwks())
    now = int(time.time())
    with pytest.raises(TokenError) as caught:
        verifier.verify(issuer.mint(iat=now - 3600, exp=now - 120))
    assert caught.value.reason is Reason.EXPIRED
    assert verifier.verify(issuer.mint()).issuer == issuer.issuer
