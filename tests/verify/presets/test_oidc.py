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


@pytest.mark.usefixtures("fresh_jwks_registry")
def test_keys_found_by_discovery_over_http(local_issuer: LocalIssuer) -> None:
    verifier = oidc(issuer=local_issuer.issuer, audience="api", token_type="at+jwt")

    assert verifier.verify(local_issuer.mint()).issuer == local_issuer.issuer
    assert verifier.verify(local_issuer.mint()).subject
    assert local_issuer.server is not None
    assert local_issuer.server.count("/.well-known/openid-configuration") == 1
    assert local_issuer.server.count("/jwks") == 1
    stranger = LocalIssuer(url=local_issuer.issuer)
    rejected(verifier, stranger.mint(), Reason.UNKNOWN_KEY)


@pytest.mark.usefixtures("fresh_jwks_registry")
def test_discovery_document_for_another_issuer_is_refused(local_issuer: LocalIssuer) -> None:
    claimed = local_issuer.issuer + "/"
    verifier = oidc(issuer=claimed, audience="api", token_type="at+jwt")

    rejected(verifier, local_issuer.mint(iss=claimed), Reason.KEYS_UNAVAILABLE)
    genuine = oidc(issuer=local_issuer.issuer, audience="api", token_type="at+jwt")
    assert genuine.verify(local_issuer.mint()).subject
