"""Generic OIDC preset: a plain Verifier with the issuer's scheme checked up front."""

from __future__ import annotations

import pytest

from tessera import ANY
from tessera.errors import ConfigurationError, Reason
from tessera.testing import LocalIssuer
from tessera.verify.presets import oidc

from .conftest import NOW, clock, rejected

ISSUER = "https://id.tessera.test"


def test_options_reach_the_verifier() -> None:
    issuer = LocalIssuer(url=ISSUER)
    verifier = oidc(
        issuer=ISSUER,
        audience="orders",
        token_type="at+jwt",
        jwks=issuer.jwks(),
        roles_claim="groups",
        clock=clock,
    )
    now = int(NOW)

    claims = verifier.verify(issuer.mint(aud="orders", iat=now, exp=now + 60, groups=["ops"]))

    assert claims.roles == {"ops"}
    rejected(
        verifier, issuer.mint(aud="orders", iat=now, exp=now + 60, iss=ISSUER + "/"), Reason.WRONG_ISSUER
    )
    rejected(verifier, issuer.mint(aud="orders", iat=now, exp=now + 60, typ="JWT"), Reason.WRONG_TYPE)


@pytest.mark.parametrize(
    "issuer",
    [
        "http://id.tessera.test",
        "id.tessera.test",
        "https://",
        "https://id.tessera.test?x=1",
        "https://id.tessera.test#frag",
        "ftp://id.tessera.test",
    ],
)
def test_issuer_must_be_https(issuer: str) -> None:
    with pytest.raises(ConfigurationError):
        oidc(issuer=issuer, audience=ANY, token_type=ANY, jwks=LocalIssuer(url=ISSUER).jwks())


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:8080", "http://localhost:9000/realm", "http://[::1]:8000"]
)
def test_plain_http_is_allowed_on_loopback_only(issuer: str) -> None:
    verifier = oidc(issuer=issuer, audience=ANY, token_type=ANY, jwks=LocalIssuer(url=issuer).jwks())

    assert verifier.issuer == issuer
