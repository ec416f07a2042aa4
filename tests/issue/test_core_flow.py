"""The core flow end to end, in process: discovery, JWKS, sign-in, code + PKCE, tokens, refresh."""

from __future__ import annotations

import jwt as pyjwt

from tessera.testing.idp import FULL_SCOPE, ISSUER, SPA_REDIRECT, ProviderHarness, query_of
from tessera.verify import KeySet, Verifier


def test_discovery_and_jwks_describe_the_provider(idp: ProviderHarness) -> None:
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == ISSUER
    assert meta["token_endpoint"] == f"{ISSUER}/token"
    jwks = idp.browser.get("/jwks").json()
    assert len(jwks["keys"]) == 3
    assert {k["kid"] for k in jwks["keys"]} == {r.kid for r in idp.store.list_signing_keys()}


def test_code_flow_with_pkce_issues_verifiable_tokens(idp: ProviderHarness) -> None:
    params = idp.authorize_params()
    callback = idp.sign_in(params)
    assert callback.startswith(SPA_REDIRECT + "?")
    answer = query_of(callback)
    assert answer["state"] == params["state"]
    assert answer["iss"] == ISSUER
    response = idp.exchange(answer["code"], idp.last_verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == FULL_SCOPE
    assert body["refresh_token"]
    jwks = idp.browser.get("/jwks").json()
    verifier = Verifier(issuer=ISSUER, audience=ISSUER, token_type="at+jwt", jwks=jwks, clock=idp.clock)
    claims = verifier.verify(body["access_token"])
    assert claims.subject == "usr_alice"
    assert claims.client_id == "spa"
    id_claims = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock).verify(
        body["id_token"]
    )
    assert id_claims["nonce"] == params["nonce"]
    assert id_claims["email"] == "alice@example.com"
    key = KeySet.from_jwks(jwks)
    assert key.kids
    decoded = pyjwt.decode(
        body["access_token"],
        key=pyjwt.PyJWKSet.from_dict(jwks)[pyjwt.get_unverified_header(body["access_token"])["kid"]].key,
        algorithms=["RS256"],
        audience=ISSUER,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert decoded["sub"] == "usr_alice"


def test_refresh_rotates_and_demo_api_answers(idp: ProviderHarness) -> None:
    first = idp.tokens()
    assert idp.hello(first["access_token"]).json()["subject"] == "usr_alice"
    second = idp.refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert idp.hello(second.json()["access_token"]).status_code == 200
