"""Per-upstream client authentication at the token endpoint: client_secret_basic, client_secret_post
and private_key_jwt (an RFC 7523 assertion signed with one of Tessera's keys, checked by the upstream
against Tessera's ``/jwks``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from tessera.encoding import b64url_decode
from tessera.testing.idp import ISSUER, ProviderHarness
from tessera.testing.issuer import LocalIssuer
from tessera.testing.upstream import JWT_BEARER, FakeUpstream

from .harness import SECRET, Walk, configure, oidc_entry, refused

CALLBACK = f"{ISSUER}/upstream/corp/callback"


@pytest.fixture
def fake(idp: ProviderHarness) -> Iterator[FakeUpstream]:
    """An OpenID upstream found by discovery; each test registers Tessera its own way."""
    with FakeUpstream(LocalIssuer(), clock=idp.clock) as upstream:
        yield upstream


def _signed_entry(fake: FakeUpstream) -> dict[str, Any]:
    entry = oidc_entry(fake, token_endpoint_auth_method="private_key_jwt")
    del entry["client_secret_env"]
    return entry


def _claims(assertion: str) -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(b64url_decode(assertion.split(".")[1]))
    return claims


def test_private_key_jwt_signs_an_assertion_the_upstream_checks_with_tesseras_jwks(
    idp: ProviderHarness, fake: FakeUpstream
) -> None:
    # The upstream knows Tessera's public keys from Tessera's own /jwks, as a real one would.
    fake.register_private_key_jwt("tessera", idp.browser.get("/jwks").json(), CALLBACK)
    configure(idp, _signed_entry(fake))
    tokens = Walk(idp, idp.browser).sign_in()
    assert tokens["access_token"] and fake.refused_assertions == []
    (sent,) = fake.token_requests
    assert sent["client_assertion_type"] == JWT_BEARER and "client_secret" not in sent
    claims = _claims(sent["client_assertion"])
    assert claims["iss"] == claims["sub"] == "tessera"
    assert claims["aud"] == fake.endpoints["token_endpoint"]
    assert 0 < claims["exp"] - idp.clock() <= 60 and len(claims["jti"]) >= 16


def test_an_upstream_that_does_not_know_tesseras_key_refuses_the_assertion(
    idp: ProviderHarness, fake: FakeUpstream
) -> None:
    fake.register_private_key_jwt("tessera", LocalIssuer(url="https://stranger.example").jwks(), CALLBACK)
    configure(idp, _signed_entry(fake))
    walk = Walk(idp, idp.browser)
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "did not confirm the sign-in")
    assert fake.refused_assertions == ["unknown_key"]


def _post_assertion(fake: FakeUpstream, assertion: str) -> httpx.Response:
    response: httpx.Response = httpx.post(
        fake.endpoints["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": "unused",
            "client_id": "tessera",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
        },
    )
    return response


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "https://elsewhere.example/token"}, "wrong_audience"),
        ({"iss": "someone-else"}, "wrong_issuer"),
        ({"sub": "someone-else"}, "sub"),
        ({"exp": -10}, "expired"),
        ({"jti": None}, "missing_claim"),
    ],
)
def test_the_fake_upstream_refuses_a_wrong_assertion_and_accepts_the_genuine_one(
    idp: ProviderHarness, fake: FakeUpstream, change: dict[str, Any], reason: str
) -> None:
    fake.register_private_key_jwt("tessera", idp.browser.get("/jwks").json(), CALLBACK)
    key = idp.provider.keys.signing_key()
    now = int(idp.clock())

    def assertion(**changes: Any) -> str:
        claims = {
            "iss": "tessera",
            "sub": "tessera",
            "aud": fake.endpoints["token_endpoint"],
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 60,
        }
        for name, value in changes.items():
            claims[name] = now + value if name == "exp" else value
        return key.sign_jwt({k: v for k, v in claims.items() if v is not None})

    forged = _post_assertion(fake, assertion(**change))
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_client"
    assert fake.refused_assertions == [reason]
    # The genuine assertion gets past client authentication (the made-up code is then refused).
    genuine = assertion()
    assert _post_assertion(fake, genuine).json()["error"] == "invalid_grant"
    replayed = _post_assertion(fake, genuine)
    assert replayed.status_code == 401 and fake.refused_assertions == [reason, "jti_reused"]


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_client_secret_goes_where_the_method_says(
    idp: ProviderHarness, fake: FakeUpstream, method: str
) -> None:
    fake.register("tessera", SECRET, CALLBACK)
    configure(idp, oidc_entry(fake, token_endpoint_auth_method=method))
    assert Walk(idp, idp.browser).sign_in()["access_token"]
    (sent,) = fake.token_requests
    assert ("client_secret" in sent) == (method == "client_secret_post")
    assert "client_assertion" not in sent
