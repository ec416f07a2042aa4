"""Azure AD B2C and Entra External ID presets: tenant and policy issuer forms, tfp, tid, scp."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.errors import ConfigurationError, Reason
from tessera.testing import LocalIssuer
from tessera.testing.providers import EXAMPLE, b2c_claims, entra_external_id_claims
from tessera.verify import MultiIssuerVerifier, Verifier
from tessera.verify.presets import azure_ad_b2c, entra_external_id

from .conftest import NOW, clock, jwks_keys, rejected, sign_as

TENANT, TENANT_ID, POLICY = EXAMPLE.b2c_tenant, EXAMPLE.b2c_tenant_id, EXAMPLE.b2c_policy
API = EXAMPLE.api_client_id
B2C_ISSUER = f"https://{TENANT}.b2clogin.com/{TENANT_ID}/v2.0/"
B2C_TFP_ISSUER = f"https://{TENANT}.b2clogin.com/tfp/{TENANT_ID}/{POLICY.lower()}/v2.0/"
ENTRA_TENANT = EXAMPLE.entra_tenant_id
ENTRA_ISSUER = f"https://{ENTRA_TENANT}.ciamlogin.com/{ENTRA_TENANT}/v2.0"


def b2c_token_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"client_id": API, "now": NOW, **overrides}
    return b2c_claims(tenant=TENANT, tenant_id=TENANT_ID, policy=POLICY, **settings)


def b2c_verifier(tenant: LocalIssuer, **options: Any) -> MultiIssuerVerifier:
    settings: dict[str, Any] = {"client_id": API, "keys": jwks_keys(tenant), "clock": clock, **options}
    return azure_ad_b2c(tenant=TENANT, policy=POLICY, tenant_id=TENANT_ID, **settings)


def entra_token_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"client_id": API, "now": NOW, **overrides}
    return entra_external_id_claims(tenant_id=ENTRA_TENANT, **settings)


def entra_verifier(tenant: LocalIssuer, **options: Any) -> Verifier:
    settings: dict[str, Any] = {"client_id": API, "keys": jwks_keys(tenant), "clock": clock, **options}
    return entra_external_id(tenant_id=ENTRA_TENANT, **settings)


@pytest.mark.parametrize("iss", [B2C_ISSUER, B2C_TFP_ISSUER])
def test_b2c_access_token_accepted_in_both_issuer_forms(b2c_tenant: LocalIssuer, iss: str) -> None:
    verifier = b2c_verifier(b2c_tenant)

    claims = verifier.verify(sign_as(b2c_tenant, b2c_token_claims(iss=iss, scp="orders.read orders.write")))

    assert claims.issuer == iss
    assert claims.scopes == {"orders.read", "orders.write"}
    assert claims.audience == (API,)


def test_b2c_older_tokens_name_the_policy_in_acr(b2c_tenant: LocalIssuer) -> None:
    verifier = b2c_verifier(b2c_tenant)

    older = b2c_token_claims(tfp=None, acr=POLICY.lower())

    assert verifier.verify(sign_as(b2c_tenant, older)).subject


@pytest.mark.parametrize(
    "iss",
    [
        B2C_ISSUER.rstrip("/"),
        B2C_ISSUER + "/",
        B2C_ISSUER.replace("https://", "http://"),
        f"https://{TENANT}.b2clogin.com/{TENANT}.onmicrosoft.com/v2.0/",
        f"https://login.microsoftonline.com/{TENANT_ID}/v2.0/",
        f"https://login.microsoftonline.com/tfp/{TENANT_ID}/{POLICY.lower()}/v2.0/",
        f"https://other.b2clogin.com/{TENANT_ID}/v2.0/",
        B2C_TFP_ISSUER.replace(POLICY.lower(), "b2c_1_passwordreset"),
        B2C_TFP_ISSUER.rstrip("/"),
    ],
)
def test_ver45_b2c_wrong_issuer_spelling_is_rejected(b2c_tenant: LocalIssuer, iss: str) -> None:
    verifier = b2c_verifier(b2c_tenant)

    rejected(verifier, sign_as(b2c_tenant, b2c_token_claims(iss=iss)), Reason.WRONG_ISSUER)
    assert verifier.verify(sign_as(b2c_tenant, b2c_token_claims())).subject


def test_b2c_token_from_another_user_flow_is_rejected(b2c_tenant: LocalIssuer) -> None:
    verifier = b2c_verifier(b2c_tenant)

    rejected(
        verifier,
        sign_as(b2c_tenant, b2c_token_claims(tfp="B2C_1_passwordreset")),
        Reason.INVALID_CLAIM,
        "tfp",
    )
    rejected(verifier, sign_as(b2c_tenant, b2c_token_claims(tfp=None)), Reason.MISSING_CLAIM, "tfp")
    rejected(
        verifier, sign_as(b2c_tenant, b2c_token_claims(tfp=["B2C_1_signupsignin"])), Reason.INVALID_CLAIM
    )
    assert verifier.verify(sign_as(b2c_tenant, b2c_token_claims(tfp=POLICY.upper()))).subject


def test_ver36_b2c_id_token_for_the_spa_is_rejected_by_the_api(b2c_tenant: LocalIssuer) -> None:
    verifier = b2c_verifier(b2c_tenant)

    id_token = b2c_token_claims(client_id="b2c-spa-client-id", scope=None, nonce="n-0S6_WzA2Mj")

    rejected(verifier, sign_as(b2c_tenant, id_token), Reason.WRONG_AUDIENCE)


def test_b2c_expired_token_is_rejected(b2c_tenant: LocalIssuer) -> None:
    verifier = b2c_verifier(b2c_tenant)

    rejected(verifier, sign_as(b2c_tenant, b2c_token_claims(now=NOW - 3700)), Reason.EXPIRED)
    assert verifier.verify(sign_as(b2c_tenant, b2c_token_claims(now=NOW - 3500))).subject


def test_ver46_b2c_key_of_another_tenant_is_rejected(b2c_tenant: LocalIssuer) -> None:
    verifier = b2c_verifier(b2c_tenant)
    other = LocalIssuer(url="https://other.b2clogin.com/")

    rejected(verifier, sign_as(other, b2c_token_claims()), Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(other, b2c_token_claims(), kid=b2c_tenant.key.kid), Reason.BAD_SIGNATURE)


@pytest.mark.parametrize(
    "settings",
    [
        {"tenant": "https://contoso.b2clogin.com"},
        {"tenant": "contoso.onmicrosoft.com"},
        {"tenant_id": "not-a-guid"},
        {"tenant_id": TENANT_ID.upper()},
        {"policy": "signupsignin"},
        {"policy": "B2C_1_a/../b"},
        {"client_id": ""},
        {"client_id": []},
    ],
)
def test_b2c_settings_are_validated_at_construction(settings: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"tenant": TENANT, "tenant_id": TENANT_ID, "policy": POLICY, "client_id": API}
    with pytest.raises(ConfigurationError):
        azure_ad_b2c(**{**arguments, **settings})


def test_entra_access_token_accepted_with_roles_and_scp(entra_tenant: LocalIssuer) -> None:
    verifier = entra_verifier(entra_tenant)

    claims = verifier.verify(sign_as(entra_tenant, entra_token_claims(roles=["Orders.Admin"])))

    assert claims.issuer == ENTRA_ISSUER
    assert claims.roles == {"Orders.Admin"}
    assert claims.scopes == {"Orders.Read"}


@pytest.mark.parametrize(
    "iss",
    [
        ENTRA_ISSUER + "/",
        f"https://{ENTRA_TENANT}.ciamlogin.com/{ENTRA_TENANT}/",
        ENTRA_ISSUER.replace("https://", "http://"),
        f"https://login.microsoftonline.com/{ENTRA_TENANT}/v2.0",
        f"https://contoso.ciamlogin.com/{ENTRA_TENANT}/v2.0",
        f"https://{ENTRA_TENANT}.ciamlogin.com/{TENANT_ID}/v2.0",
    ],
)
def test_ver45_entra_wrong_issuer_spelling_is_rejected(entra_tenant: LocalIssuer, iss: str) -> None:
    verifier = entra_verifier(entra_tenant)

    rejected(verifier, sign_as(entra_tenant, entra_token_claims(iss=iss)), Reason.WRONG_ISSUER)
    assert verifier.verify(sign_as(entra_tenant, entra_token_claims())).subject


def test_entra_tid_must_be_the_tenant(entra_tenant: LocalIssuer) -> None:
    verifier = entra_verifier(entra_tenant)

    rejected(verifier, sign_as(entra_tenant, entra_token_claims(tid=TENANT_ID)), Reason.WRONG_ISSUER, "tid")
    rejected(verifier, sign_as(entra_tenant, entra_token_claims(tid=None)), Reason.MISSING_CLAIM, "tid")


def test_ver47_entra_token_for_another_app_is_rejected(entra_tenant: LocalIssuer) -> None:
    verifier = entra_verifier(entra_tenant, client_id=[API, "api-two"])

    rejected(
        verifier, sign_as(entra_tenant, entra_token_claims(client_id="spa-client-id")), Reason.WRONG_AUDIENCE
    )
    assert verifier.verify(sign_as(entra_tenant, entra_token_claims(client_id="api-two"))).subject


def test_entra_expired_token_and_foreign_key_are_rejected(entra_tenant: LocalIssuer) -> None:
    verifier = entra_verifier(entra_tenant)
    other = LocalIssuer(url=ENTRA_ISSUER)

    rejected(verifier, sign_as(entra_tenant, entra_token_claims(now=NOW - 3700)), Reason.EXPIRED)
    rejected(verifier, sign_as(other, entra_token_claims()), Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(other, entra_token_claims(), kid=entra_tenant.key.kid), Reason.BAD_SIGNATURE)


@pytest.mark.parametrize(
    "settings",
    [{"tenant_id": "contoso"}, {"tenant_subdomain": "contoso.ciamlogin.com"}, {"client_id": ""}],
)
def test_entra_settings_are_validated_at_construction(settings: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"tenant_id": ENTRA_TENANT, "client_id": API}
    with pytest.raises(ConfigurationError):
        entra_external_id(**{**arguments, **settings})


def test_ver36_entra_id_token_for_the_spa_is_rejected_by_the_api(entra_tenant: LocalIssuer) -> None:
    verifier = entra_verifier(entra_tenant)

    id_token = entra_token_claims(client_id="spa-client-id", scp=None, azp=None, azpacr=None, nonce="n-1")

    rejected(verifier, sign_as(entra_tenant, id_token), Reason.WRONG_AUDIENCE)
    assert verifier.verify(sign_as(entra_tenant, entra_token_claims())).subject
