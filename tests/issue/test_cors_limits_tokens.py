"""CORS per endpoint (WEB-11..14), rate limits (AS-57), ID token contents (AS-25), STO-07/08."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from tessera.encoding import b64url_decode, b64url_encode, json_object
from tessera.issue.endpoints.client_auth import ASSERTION_TYPE
from tessera.keys import sign_compact
from tessera.testing.idp import ISSUER, ProviderHarness
from tessera.verify import Verifier

SVC_SECRET = "svc-secret-" + "y" * 40
SPA_ORIGIN = "http://127.0.0.1:5173"
EVIL_ORIGINS = [
    "https://evil.example",
    "null",
    "http://127.0.0.1.evil.com:5173",
    "http://127.0.0.1:5173.evil.com",
    "https://127.0.0.1:5173",
    "http://127.0.0.1",
    "http://127.0.0.1:05173",
]


def _cors_headers(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def _preflight(
    idp: ProviderHarness, path: str, origin: str, method: str = "POST", headers: str = "content-type"
) -> Any:
    return idp.new_browser().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_web14_token_userinfo_revoke_open_to_the_spa_origin_only(idp: ProviderHarness) -> None:
    for path in ("/token", "/userinfo", "/revoke"):
        allowed = _preflight(idp, path, SPA_ORIGIN)
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == SPA_ORIGIN
        assert allowed.headers["vary"] == "Origin"
        assert int(allowed.headers["access-control-max-age"]) <= 600
        assert "access-control-allow-credentials" not in allowed.headers
        for origin in EVIL_ORIGINS:
            assert _cors_headers(_preflight(idp, path, origin)) == {}
    token = idp.new_browser().post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=("svc", SVC_SECRET),
        headers={"Origin": SPA_ORIGIN},
    )
    assert token.headers["access-control-allow-origin"] == SPA_ORIGIN
    evil = idp.new_browser().post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=("svc", SVC_SECRET),
        headers={"Origin": EVIL_ORIGINS[0]},
    )
    assert evil.status_code == 200
    assert _cors_headers(evil) == {}


def test_web11_web12_no_wildcard_with_credentials_anywhere(idp: ProviderHarness) -> None:
    routes = [
        "/.well-known/openid-configuration",
        "/jwks",
        "/authorize",
        "/signin",
        "/token",
        "/userinfo",
        "/revoke",
        "/introspect",
        "/logout",
        "/demo/hello",
        "/dev/outbox",
    ]
    for route in routes:
        for origin in [SPA_ORIGIN, *EVIL_ORIGINS]:
            for response in (
                idp.new_browser().get(route, headers={"Origin": origin}),
                _preflight(idp, route, origin, "GET"),
            ):
                cors = _cors_headers(response)
                assert cors.get("access-control-allow-credentials") != "true"
                if origin in EVIL_ORIGINS:
                    assert cors.get("access-control-allow-origin") in (None, "*")


def test_web13_preflight_limits(idp: ProviderHarness) -> None:
    assert _cors_headers(_preflight(idp, "/token", SPA_ORIGIN, "DELETE")) == {}
    assert _cors_headers(_preflight(idp, "/token", SPA_ORIGIN, "POST", "x-evil")) == {}
    assert _preflight(idp, "/token", SPA_ORIGIN, "POST", "authorization, content-type").status_code == 204


def test_web14_cors_configured_origins_outside_dev_mode(tmp_path: Path) -> None:
    idp = ProviderHarness(
        tmp_path, issuer="https://id.example.test", cors_origins=frozenset({"https://app.example"})
    )
    assert (
        _preflight(idp, "/token", "https://app.example").headers["access-control-allow-origin"]
        == "https://app.example"
    )
    assert _cors_headers(_preflight(idp, "/token", "https://app.example.evil.com")) == {}
    idp.store.close()


def test_as57_failed_client_auth_limited_per_client(idp: ProviderHarness) -> None:
    for _ in range(50):
        assert idp.token({"grant_type": "client_credentials"}, auth=("svc", "wrong-" * 8)).status_code == 401
    limited = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.headers["cache-control"] == "no-store"
    web = idp.token({"grant_type": "client_credentials"}, auth=("jwt-client", "x" * 40))
    assert web.status_code == 401
    idp.clock.advance(61)
    assert idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).status_code == 200


def test_as57_token_requests_limited_per_address_ignoring_forwarded_for(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, token_requests_per_minute_per_address=5)
    for i in range(5):
        response = idp.token(
            {"grant_type": "client_credentials"},
            auth=("svc", SVC_SECRET),
            headers={"X-Forwarded-For": f"10.0.0.{i}"},
        )
        assert response.status_code == 200
    limited = idp.token(
        {"grant_type": "client_credentials"},
        auth=("svc", SVC_SECRET),
        headers={"X-Forwarded-For": "10.9.9.9"},
    )
    assert limited.status_code == 429
    idp.clock.advance(60)
    assert idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).status_code == 200
    idp.store.close()


def test_as25_id_token_contents(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    header = json_object(b64url_decode(tokens["id_token"].split(".")[0]))
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert header["alg"] in meta["id_token_signing_alg_values_supported"]
    assert header["alg"] != "none"
    jwks = idp.browser.get("/jwks").json()
    claims = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock).verify(
        tokens["id_token"]
    )
    assert claims["iss"] == meta["issuer"]
    assert claims["aud"] == "spa"
    assert {"exp", "iat", "auth_time", "at_hash", "sub"} <= set(claims)
    import hashlib

    digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    assert claims["at_hash"] == b64url_encode(digest[:16])
    other = idp.tokens()
    assert claims["at_hash"] != b64url_encode(hashlib.sha256(other["access_token"].encode()).digest()[:16])


def test_sto07_token_from_another_installation_rejected(tmp_path: Path) -> None:
    one = ProviderHarness(tmp_path / "one")
    two = ProviderHarness(tmp_path / "two")
    token = one.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()["access_token"]
    assert two.hello(token).status_code == 401
    assert one.hello(token).status_code == 200
    one.store.close()
    two.store.close()


def test_sto08_ver51_replay_cache_keys_on_the_decoded_jti(idp: ProviderHarness) -> None:
    now = int(idp.clock.now)
    claims = {
        "iss": "jwt-client",
        "sub": "jwt-client",
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": "same-jti",
    }
    first = idp.client_key.sign_jwt(claims)
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE}
    assert idp.token({**form, "client_assertion": first}).status_code == 200
    reordered = sign_compact(
        {"kid": idp.client_key.kid, "alg": idp.client_key.alg},
        b'{"jti":"same-jti", "exp":%d,"aud":"%s","iss":"jwt-client","sub":"jwt-client","iat":%d}'
        % (now + 60, ISSUER.encode(), now),
        idp.client_key.sign,
    )
    assert reordered != first
    assert idp.token({**form, "client_assertion": reordered}).status_code == 401
    padded = first.split(".")
    padded[1] += "=="
    assert idp.token({**form, "client_assertion": ".".join(padded)}).status_code == 401
    fresh = idp.client_key.sign_jwt({**claims, "jti": secrets.token_hex(8)})
    assert idp.token({**form, "client_assertion": fresh}).status_code == 200
