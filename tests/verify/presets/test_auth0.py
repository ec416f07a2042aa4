"""Auth0 preset: issuer with the trailing slash, API audience, RS256, permissions as roles."""

from __future__ import annotations

from typing import Any

import pytest

from tessera import ANY
from tessera.errors import ConfigurationError, Reason
from tessera.testing import LocalIssuer
from tessera.testing.providers import EXAMPLE, auth0_access_claims, auth0_id_claims
from tessera.verify import Verifier
from tessera.verify.presets import auth0

from .conftest import NOW, clock, jwks_keys, rejected, sign_as

DOMAIN, API = EXAMPLE.auth0_domain, EXAMPLE.auth0_audience
ISSUER = f"https://{DOMAIN}/"


def access_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"audience": API, "now": NOW, **overrides}
    return auth0_access_claims(domain=DOMAIN, **settings)


def verifier_for(tenant: LocalIssuer, **options: Any) -> Verifier:
    settings: dict[str, Any] = {"audience": API, "keys": jwks_keys(tenant), "clock": clock, **options}
    return auth0(domain=DOMAIN, **settings)


def test_access_token_accepted_with_permissions_as_roles(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant)

    claims = verifier.verify(
        sign_as(auth0_tenant, access_claims(permissions=["read:orders", "write:orders"]))
    )

    assert claims.issuer == ISSUER
    assert claims.roles == {"read:orders", "write:orders"}
    assert claims.scopes == {"openid", "profile", "read:orders"}
    assert claims.audience == (API, f"https://{DOMAIN}/userinfo")


def test_namespaced_roles_claim_can_be_chosen(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant, roles_claim="https://tessera.test/roles")

    token = sign_as(auth0_tenant, access_claims(**{"https://tessera.test/roles": ["admin"]}))

    assert verifier.verify(token).roles == {"admin"}


@pytest.mark.parametrize(
    "iss",
    [
        ISSUER.rstrip("/"),
        ISSUER + "/",
        ISSUER.replace("https://", "http://"),
        f"https://{DOMAIN.upper()}/",
        f"https://{DOMAIN}.evil/",
        f"https://{DOMAIN}/../x/",
        123,
        None,
    ],
)
def test_ver45_wrong_issuer_spelling_is_rejected(auth0_tenant: LocalIssuer, iss: object) -> None:
    verifier = verifier_for(auth0_tenant)

    reason = Reason.MISSING_CLAIM if iss is None else Reason.WRONG_ISSUER
    rejected(verifier, sign_as(auth0_tenant, access_claims(iss=iss)), reason)
    assert verifier.verify(sign_as(auth0_tenant, access_claims())).issuer == ISSUER


def test_ver36_id_token_presented_as_access_token_is_rejected(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant)

    id_token = sign_as(auth0_tenant, auth0_id_claims(domain=DOMAIN, now=NOW))

    rejected(verifier, id_token, Reason.WRONG_AUDIENCE)
    assert verifier.verify(sign_as(auth0_tenant, access_claims())).subject


def test_ver36_rfc9068_profile_requires_at_jwt(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant, token_type="at+jwt")
    claims = access_claims(profile="rfc9068")

    rejected(verifier, sign_as(auth0_tenant, claims), Reason.WRONG_TYPE)
    assert verifier.verify(auth0_tenant.mint(claims, typ="at+jwt")).subject


@pytest.mark.parametrize(
    ("aud", "reason"),
    [
        ("https://other.api", Reason.WRONG_AUDIENCE),
        (["https://other.api"], Reason.WRONG_AUDIENCE),
        (API + "2", Reason.WRONG_AUDIENCE),
        ("", Reason.WRONG_AUDIENCE),
        ([], Reason.INVALID_CLAIM),
        ({"a": API}, Reason.INVALID_CLAIM),
        (None, Reason.MISSING_CLAIM),
    ],
)
def test_ver47_wrong_audience_is_rejected(auth0_tenant: LocalIssuer, aud: object, reason: Reason) -> None:
    verifier = verifier_for(auth0_tenant)

    rejected(verifier, sign_as(auth0_tenant, access_claims(aud=aud)), reason)
    assert verifier.verify(sign_as(auth0_tenant, access_claims(aud=["other", API]))).subject


def test_expired_token_is_rejected(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant)

    rejected(verifier, sign_as(auth0_tenant, access_claims(now=NOW - 7200)), Reason.EXPIRED)
    assert verifier.verify(sign_as(auth0_tenant, access_claims(now=NOW - 3000))).subject


def test_ver46_key_of_another_tenant_is_rejected(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant)
    other = LocalIssuer(url="https://other.eu.auth0.com/")

    rejected(verifier, sign_as(other, access_claims()), Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(other, access_claims(), kid=auth0_tenant.key.kid), Reason.BAD_SIGNATURE)
    assert verifier.verify(sign_as(auth0_tenant, access_claims())).subject


def test_rs256_only_by_default_and_widened_explicitly() -> None:
    tenant = LocalIssuer("PS256", url=ISSUER)
    token = sign_as(tenant, access_claims())

    rejected(verifier_for(tenant), token, Reason.ALGORITHM_NOT_ALLOWED)
    assert verifier_for(tenant, algorithms=["RS256", "PS256"]).verify(token).subject


def test_audience_any_is_an_explicit_waiver(auth0_tenant: LocalIssuer) -> None:
    verifier = verifier_for(auth0_tenant, audience=ANY)

    assert verifier.verify(sign_as(auth0_tenant, access_claims(aud="https://other.api"))).subject


@pytest.mark.parametrize(
    "domain",
    [
        "https://tessera.eu.auth0.com",
        "tessera.eu.auth0.com/",
        "tessera",
        "",
        "tessera.eu.auth0.com/x",
        "a b.com",
    ],
)
def test_domain_must_be_a_bare_host(domain: str) -> None:
    with pytest.raises(ConfigurationError):
        auth0(domain=domain, audience=API)


@pytest.mark.parametrize("audience", ["", [], [""], None, 42, [b"api"]])
def test_audience_must_be_given(audience: Any) -> None:
    with pytest.raises(ConfigurationError):
        auth0(domain=DOMAIN, audience=audience)
