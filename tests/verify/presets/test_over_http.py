"""Every preset end to end over real HTTP: each provider's key document served from 127.0.0.1.

The tokens keep the provider's real issuer string; only the key location is overridden with
``jwks_uri=``, at a path shaped like the provider's own. Each test also shows that warm
verifications do not refetch, and that a key the provider does not publish verifies nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera.errors import Reason, TokenError
from tessera.testing import LocalHTTPServer, LocalIssuer, Response
from tessera.testing.providers import (
    EXAMPLE,
    auth0_access_claims,
    b2c_claims,
    cognito_access_claims,
    entra_external_id_claims,
    firebase_id_claims,
    google_id_claims,
    x509_certificates,
)
from tessera.verify import MultiIssuerVerifier
from tessera.verify.presets import (
    FIREBASE_CERTIFICATES_URI,
    GOOGLE_JWKS_URI,
    auth0,
    azure_ad_b2c,
    cognito,
    entra_external_id,
    firebase,
    google,
)

from .conftest import NOW, AnyVerifier, clock, rejected, sign_as

pytestmark = pytest.mark.usefixtures("fresh_jwks_registry")

Build = Callable[[str], AnyVerifier]


def serve(server: LocalHTTPServer, path: str, document: Any) -> str:
    server.routes[path] = Response.json(document, headers={"Cache-Control": "max-age=300"})
    return server.url + path


def round_trip(
    server: LocalHTTPServer, path: str, issuer: LocalIssuer, claims: dict[str, Any], build: Build
) -> None:
    """Genuine tokens verify with one fetch; a foreign key is refused without a flood of fetches."""
    verifier = build(server.url + path)
    for _ in range(3):
        assert verifier.verify(sign_as(issuer, claims)).subject
    assert server.count(path) == 1
    stranger = LocalIssuer(url=issuer.issuer)
    rejected(verifier, sign_as(stranger, claims), Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(stranger, claims, kid=issuer.key.kid), Reason.BAD_SIGNATURE)
    assert server.count(path) <= 2


def test_cognito_keys_from_the_pool_jwks(
    http_server: LocalHTTPServer, cognito_user_pool: LocalIssuer
) -> None:
    region, pool = EXAMPLE.cognito_region, EXAMPLE.cognito_user_pool_id
    path = f"/{pool}/.well-known/jwks.json"
    serve(http_server, path, cognito_user_pool.jwks())
    claims = cognito_access_claims(
        region=region, user_pool_id=pool, client_id=EXAMPLE.cognito_client_id, now=NOW
    )

    round_trip(
        http_server,
        path,
        cognito_user_pool,
        claims,
        lambda uri: cognito(
            region=region,
            user_pool_id=pool,
            token_use="access",
            client_id=EXAMPLE.cognito_client_id,
            jwks_uri=uri,
            clock=clock,
        ),
    )


def test_auth0_keys_from_the_tenant_jwks(http_server: LocalHTTPServer, auth0_tenant: LocalIssuer) -> None:
    path = "/.well-known/jwks.json"
    serve(http_server, path, auth0_tenant.jwks())
    claims = auth0_access_claims(domain=EXAMPLE.auth0_domain, audience=EXAMPLE.auth0_audience, now=NOW)

    round_trip(
        http_server,
        path,
        auth0_tenant,
        claims,
        lambda uri: auth0(
            domain=EXAMPLE.auth0_domain, audience=EXAMPLE.auth0_audience, jwks_uri=uri, clock=clock
        ),
    )


def test_firebase_keys_from_the_x509_certificate_map(
    http_server: LocalHTTPServer, firebase_project: LocalIssuer
) -> None:
    import time

    path = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
    serve(http_server, path, x509_certificates(firebase_project.published, now=time.time() - 3600))
    claims = firebase_id_claims(project_id=EXAMPLE.firebase_project_id, now=NOW)

    round_trip(
        http_server,
        path,
        firebase_project,
        claims,
        lambda uri: firebase(project_id=EXAMPLE.firebase_project_id, jwks_uri=uri, clock=clock),
    )


def test_firebase_refuses_a_jwks_where_certificates_are_expected(
    http_server: LocalHTTPServer, firebase_project: LocalIssuer
) -> None:
    uri = serve(http_server, "/certs", firebase_project.jwks())
    verifier = firebase(project_id=EXAMPLE.firebase_project_id, jwks_uri=uri, clock=clock)

    token = sign_as(firebase_project, firebase_id_claims(project_id=EXAMPLE.firebase_project_id, now=NOW))

    error = rejected(verifier, token, Reason.KEYS_UNAVAILABLE)
    assert error.status == 401


@pytest.mark.parametrize("form", ["tenant", "tfp"])
def test_b2c_keys_from_the_policy_discovery_keys(
    http_server: LocalHTTPServer, b2c_tenant: LocalIssuer, form: str
) -> None:
    tenant, tenant_id, policy = EXAMPLE.b2c_tenant, EXAMPLE.b2c_tenant_id, EXAMPLE.b2c_policy
    path = f"/{tenant}.onmicrosoft.com/{policy}/discovery/v2.0/keys"
    serve(http_server, path, b2c_tenant.jwks())
    iss = {
        "tenant": f"https://{tenant}.b2clogin.com/{tenant_id}/v2.0/",
        "tfp": f"https://{tenant}.b2clogin.com/tfp/{tenant_id}/{policy.lower()}/v2.0/",
    }[form]
    claims = b2c_claims(
        tenant=tenant, tenant_id=tenant_id, policy=policy, client_id=EXAMPLE.api_client_id, now=NOW, iss=iss
    )

    round_trip(
        http_server,
        path,
        b2c_tenant,
        claims,
        lambda uri: azure_ad_b2c(
            tenant=tenant,
            policy=policy,
            tenant_id=tenant_id,
            client_id=EXAMPLE.api_client_id,
            jwks_uri=uri,
            clock=clock,
        ),
    )


def test_entra_external_id_keys_from_the_tenant_discovery_keys(
    http_server: LocalHTTPServer, entra_tenant: LocalIssuer
) -> None:
    tenant_id = EXAMPLE.entra_tenant_id
    path = f"/{tenant_id}/discovery/v2.0/keys"
    serve(http_server, path, entra_tenant.jwks())
    claims = entra_external_id_claims(tenant_id=tenant_id, client_id=EXAMPLE.api_client_id, now=NOW)

    round_trip(
        http_server,
        path,
        entra_tenant,
        claims,
        lambda uri: entra_external_id(
            tenant_id=tenant_id, client_id=EXAMPLE.api_client_id, jwks_uri=uri, clock=clock
        ),
    )


def test_google_both_spellings_share_one_key_fetch(
    http_server: LocalHTTPServer, google_accounts: LocalIssuer
) -> None:
    path = "/oauth2/v3/certs"
    uri = serve(http_server, path, google_accounts.jwks())
    verifier = google(client_id=EXAMPLE.google_client_id, jwks_uri=uri, clock=clock)

    for iss in ("https://accounts.google.com", "accounts.google.com"):
        token = sign_as(
            google_accounts, google_id_claims(client_id=EXAMPLE.google_client_id, issuer=iss, now=NOW)
        )
        assert verifier.verify(token).issuer == iss

    assert http_server.count(path) == 1


def test_presets_default_to_the_providers_key_locations() -> None:
    region, pool = EXAMPLE.cognito_region, EXAMPLE.cognito_user_pool_id
    pool_verifier = cognito(region=region, user_pool_id=pool, token_use="id", client_id="c")
    tenant_verifier = auth0(domain=EXAMPLE.auth0_domain, audience="a")
    project_verifier = firebase(project_id=EXAMPLE.firebase_project_id)
    entra = entra_external_id(tenant_id=EXAMPLE.entra_tenant_id, client_id="c", tenant_subdomain="contoso")
    accounts = google(client_id="c")
    google_token = LocalIssuer(url="accounts.google.com").mint(typ="JWT")

    assert getattr(pool_verifier.keys, "jwks_uri", None) == (
        f"https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json"
    )
    assert (
        getattr(tenant_verifier.keys, "jwks_uri", None)
        == f"https://{EXAMPLE.auth0_domain}/.well-known/jwks.json"
    )
    assert getattr(project_verifier.keys, "jwks_uri", None) == FIREBASE_CERTIFICATES_URI
    assert getattr(entra.keys, "jwks_uri", None) == (
        f"https://contoso.ciamlogin.com/{EXAMPLE.entra_tenant_id}/discovery/v2.0/keys"
    )
    assert getattr(accounts.verifier_for(google_token).keys, "jwks_uri", None) == GOOGLE_JWKS_URI


def test_b2c_defaults_to_the_policy_keys_for_both_issuer_forms() -> None:
    tenant, tenant_id, policy = EXAMPLE.b2c_tenant, EXAMPLE.b2c_tenant_id, EXAMPLE.b2c_policy
    verifier = azure_ad_b2c(tenant=tenant, policy=policy, tenant_id=tenant_id, client_id="c")
    expected = f"https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}/discovery/v2.0/keys"

    for iss in (
        f"https://{tenant}.b2clogin.com/{tenant_id}/v2.0/",
        f"https://{tenant}.b2clogin.com/tfp/{tenant_id}/{policy.lower()}/v2.0/",
    ):
        token = LocalIssuer(url=iss).mint(typ="JWT")
        assert getattr(verifier.verifier_for(token).keys, "jwks_uri", None) == expected


def test_ver46_presets_combined_keep_each_issuers_keys(
    http_server: LocalHTTPServer, cognito_user_pool: LocalIssuer, auth0_tenant: LocalIssuer
) -> None:
    region, pool, client = EXAMPLE.cognito_region, EXAMPLE.cognito_user_pool_id, EXAMPLE.cognito_client_id
    pool_uri = serve(http_server, "/pool/jwks.json", cognito_user_pool.jwks())
    tenant_uri = serve(http_server, "/tenant/jwks.json", auth0_tenant.jwks())
    verifier = MultiIssuerVerifier(
        [
            cognito(
                region=region,
                user_pool_id=pool,
                token_use="access",
                client_id=client,
                jwks_uri=pool_uri,
                clock=clock,
            ),
            auth0(
                domain=EXAMPLE.auth0_domain, audience=EXAMPLE.auth0_audience, jwks_uri=tenant_uri, clock=clock
            ),
        ]
    )
    auth0_claims = auth0_access_claims(domain=EXAMPLE.auth0_domain, audience=EXAMPLE.auth0_audience, now=NOW)
    cognito_claims = cognito_access_claims(region=region, user_pool_id=pool, client_id=client, now=NOW)

    rejected(verifier, sign_as(cognito_user_pool, auth0_claims), Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(auth0_tenant, cognito_claims), Reason.UNKNOWN_KEY)
    forged = sign_as(cognito_user_pool, auth0_claims, kid=auth0_tenant.key.kid)
    rejected(verifier, forged, Reason.BAD_SIGNATURE)
    assert verifier.verify(sign_as(auth0_tenant, auth0_claims)).issuer == f"https://{EXAMPLE.auth0_domain}/"
    assert verifier.verify(sign_as(cognito_user_pool, cognito_claims)).roles == {"admins"}


async def test_presets_verify_without_blocking_the_event_loop(
    http_server: LocalHTTPServer, google_accounts: LocalIssuer
) -> None:
    uri = serve(http_server, "/oauth2/v3/certs", google_accounts.jwks())
    verifier = google(client_id=EXAMPLE.google_client_id, jwks_uri=uri, clock=clock)
    claims = google_id_claims(client_id=EXAMPLE.google_client_id, now=NOW)

    assert (await verifier.averify(sign_as(google_accounts, claims))).subject
    with pytest.raises(TokenError) as caught:
        await verifier.averify(sign_as(LocalIssuer(url="https://accounts.google.com"), claims))
    assert caught.value.reason is Reason.UNKNOWN_KEY
