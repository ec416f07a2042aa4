"""Front doors: IAP's signed assertion, Easy Auth's principal header, ESPv2's user info header."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tessera import ConfigurationError, TokenError
from tessera.encoding import b64url_encode
from tessera.protect import Guard, Headers, HttpRequest, HttpResponse, Principal
from tessera.protect.front_doors import (
    EASY_AUTH_HEADER,
    ESP_USERINFO_HEADER,
    IAP_HEADER,
    IAP_ISSUER,
    EasyAuthPrincipal,
    EndpointsUserInfo,
    iap_verifier,
)
from tessera.testing import LocalIssuer

from .support import bearer

AUDIENCE = "/projects/123456/global/backendServices/987654"
IAP = LocalIssuer("ES256", url=IAP_ISSUER)


def iap_assertion(issuer: LocalIssuer = IAP, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": IAP_ISSUER,
        "aud": AUDIENCE,
        "sub": "accounts.google.com:1234567890",
        "email": "alice@example.com",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return issuer.mint({k: v for k, v in claims.items() if v is not None}, typ="JWT")


def with_header(name: str, value: str, *extra: tuple[str, str]) -> HttpRequest:
    return HttpRequest("GET", "/", Headers([(name, value), *extra]))


def test_iap_genuine_assertion_is_accepted_and_forgeries_refused() -> None:
    guard = Guard(iap_verifier(AUDIENCE, jwks=IAP.jwks()), header=IAP_HEADER)
    forger = LocalIssuer("ES256", url=IAP_ISSUER)

    principal = guard.authenticate(with_header(IAP_HEADER, iap_assertion()))

    assert principal.subject == "accounts.google.com:1234567890"
    assert principal.claims["email"] == "alice@example.com"
    for bad in (
        iap_assertion(forger),
        iap_assertion(aud="/projects/123456/global/backendServices/1"),
        iap_assertion(iss="https://accounts.google.com"),
        iap_assertion(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "not-a-jwt",
    ):
        with pytest.raises(TokenError) as caught:
            guard.authenticate(with_header(IAP_HEADER, bad))
        assert caught.value.status == 401


def test_iap_accepts_only_es256() -> None:
    issuer = LocalIssuer("ES256", url=IAP_ISSUER)
    ec_key = issuer.key
    rsa_key = issuer.add_key("RS256")
    guard = Guard(iap_verifier(AUDIENCE, jwks=issuer.jwks()), header=IAP_HEADER)
    now = int(time.time())
    claims = {"iss": IAP_ISSUER, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60}

    with pytest.raises(TokenError):
        guard.authenticate(with_header(IAP_HEADER, issuer.mint(claims, key=rsa_key, typ="JWT")))
    assert (
        guard.authenticate(with_header(IAP_HEADER, issuer.mint(claims, key=ec_key, typ="JWT"))).subject == "x"
    )


def test_iap_header_only_the_bearer_header_is_ignored() -> None:
    guard = Guard(iap_verifier(AUDIENCE, jwks=IAP.jwks()), header=IAP_HEADER)

    missing = guard.admit(HttpRequest("GET", "/", Headers([("Authorization", bearer(iap_assertion()))])))
    twice = guard.admit(with_header(IAP_HEADER, iap_assertion(), (IAP_HEADER, iap_assertion())))

    assert isinstance(missing, HttpResponse) and missing.status == 401
    assert isinstance(twice, HttpResponse) and twice.status == 400
    assert isinstance(guard.admit(with_header(IAP_HEADER, iap_assertion())), Principal)


def test_iap_audience_must_look_like_a_backend() -> None:
    for audience in ("api", "/projects/abc/apps/x", "https://example.com"):
        with pytest.raises(ConfigurationError):
            iap_verifier(audience, jwks=IAP.jwks())
    iap_verifier("/projects/42/apps/my-project", jwks=IAP.jwks())


def easy_auth_header(provider: str = "aad", roles: tuple[str, ...] = ("Orders.Admin",)) -> str:
    document = {
        "auth_typ": provider,
        "name_typ": "name",
        "role_typ": "roles",
        "claims": [
            {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "oid-1"},
            {"typ": "name", "val": "Alice"},
            {"typ": "http://schemas.microsoft.com/identity/claims/scope", "val": "orders.read"},
            *({"typ": "roles", "val": r} for r in roles),
        ],
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def test_easy_auth_principal_is_read_with_roles_and_scopes() -> None:
    guard = Guard(EasyAuthPrincipal(), header=EASY_AUTH_HEADER, roles=["Orders.Admin"])

    principal = guard.authenticate(with_header("X-MS-CLIENT-PRINCIPAL", easy_auth_header()))

    assert principal.principal_id == "oid-1"
    assert principal.roles == {"Orders.Admin"}
    assert principal.scopes == {"orders.read"}
    assert principal.claims.issuer == "easyauth:aad"
    denied = guard.admit(with_header(EASY_AUTH_HEADER, easy_auth_header(roles=("Orders.Reader",))))
    assert isinstance(denied, HttpResponse) and denied.status == 403


@pytest.mark.parametrize(
    "value",
    [
        "%%%",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"auth_typ": "aad", "claims": [{"typ": 1}]}').decode(),
        base64.b64encode(b'{"auth_typ": "aad", "claims": []}').decode(),
        easy_auth_header(provider="google"),
    ],
)
def test_easy_auth_malformed_or_unexpected_headers_are_401(value: str) -> None:
    guard = Guard(EasyAuthPrincipal(), header=EASY_AUTH_HEADER)

    response = guard.admit(with_header(EASY_AUTH_HEADER, value))

    assert isinstance(response, HttpResponse) and response.status == 401
    assert isinstance(guard.admit(with_header(EASY_AUTH_HEADER, easy_auth_header())), Principal)


def userinfo(**overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "https://id.example.com",
        "aud": "orders",
        "sub": "alice",
        "exp": now + 300,
    }
    claims.update(overrides)
    return b64url_encode(json.dumps({k: v for k, v in claims.items() if v is not None}).encode())


def test_esp_userinfo_claims_are_checked_again() -> None:
    guard = Guard(
        EndpointsUserInfo(issuer="https://id.example.com", audience="orders"), header=ESP_USERINFO_HEADER
    )

    assert guard.authenticate(with_header(ESP_USERINFO_HEADER, userinfo(scope="a b"))).scopes == {"a", "b"}
    for bad in (
        userinfo(iss="https://evil.example"),
        userinfo(aud="billing"),
        userinfo(exp=int(time.time()) - 3600),
        userinfo(sub=None),
        "!!!",
        b64url_encode(b'{"sub": "a", "sub": "b"}'),
    ):
        response = guard.admit(with_header(ESP_USERINFO_HEADER, bad))
        assert isinstance(response, HttpResponse) and response.status == 401
