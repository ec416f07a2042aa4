"""The token endpoint and client authentication against AS-11..AS-21 and AS-35..AS-43."""

from __future__ import annotations

import base64
import re
import secrets
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tessera.encoding import json_dumps
from tessera.errors import ConfigurationError
from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import ASSERTION_TYPE
from tessera.keys import SigningKey, sign_compact
from tessera.keys.signing import hmac_signer
from tessera.store import ClientRecord
from tessera.testing.idp import ISSUER, SPA_REDIRECT, WEB_REDIRECT, ProviderHarness

WEB_SECRET = "web-secret-" + "x" * 40
SVC_SECRET = "svc-secret-" + "y" * 40
LEGACY_SECRET = "legacy-secret-" + "z" * 40


def _error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.json()["error"] == error
    description = response.json().get("error_description", "")
    assert re.fullmatch(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*", description)


def test_as11_pkce_downgrade_verifier_without_challenge(idp: ProviderHarness) -> None:
    code, _, _params = idp.code("legacy", scope="openid", code_challenge=None, code_challenge_method=None)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": WEB_REDIRECT}
    _error(
        idp.token({**data, "code_verifier": "a" * 50}, auth=("legacy", LEGACY_SECRET)), 400, "invalid_grant"
    )
    fresh, _, _ = idp.code("legacy", scope="openid", code_challenge=None, code_challenge_method=None)
    ok = idp.token({**data, "code": fresh}, auth=("legacy", LEGACY_SECRET))
    assert ok.status_code == 200


def test_as12_code_verifier_missing(idp: ProviderHarness) -> None:
    code, _verifier, _ = idp.code()
    _error(idp.exchange(code, None), 400, "invalid_grant")
    fresh, fresh_verifier, _ = idp.code()
    assert idp.exchange(fresh, fresh_verifier).status_code == 200


def test_as13_wrong_verifier_burns_the_code(idp: ProviderHarness) -> None:
    code, verifier, _params = idp.code()
    wrong = verifier[:-1] + ("A" if verifier[-1] != "A" else "B")
    _error(idp.exchange(code, wrong), 400, "invalid_grant")
    _error(idp.exchange(code, verifier), 400, "invalid_grant")
    plain, _, plain_params = idp.code()
    _error(idp.exchange(plain, plain_params["code_challenge"]), 400, "invalid_grant")
    fresh, fresh_verifier, _ = idp.code()
    assert idp.exchange(fresh, fresh_verifier).status_code == 200


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + "!", "a" * 43 + " ", "ä" * 43])
def test_as14_code_verifier_syntax(idp: ProviderHarness, verifier: str) -> None:
    code, _good, _ = idp.code()
    response = idp.exchange(code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "invalid_request")
    fresh, fresh_verifier, _ = idp.code()
    assert idp.exchange(fresh, fresh_verifier).status_code == 200


def test_as15_code_reuse_revokes_everything_it_issued(idp: ProviderHarness) -> None:
    code, verifier, _ = idp.code(client_id="web")
    first = idp.exchange(code, verifier, "web", WEB_REDIRECT)
    assert first.status_code == 200
    tokens = first.json()
    assert idp.introspect(tokens["access_token"])["active"] is True
    assert idp.hello(tokens["access_token"]).status_code == 200
    _error(idp.exchange(code, verifier, "web", WEB_REDIRECT), 400, "invalid_grant")
    idp.clock.advance(30)
    _error(idp.exchange(code, verifier, "web", WEB_REDIRECT), 400, "invalid_grant")
    assert idp.introspect(tokens["access_token"]) == {"active": False}
    assert idp.hello(tokens["access_token"]).status_code == 401
    refreshed = idp.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=("web", WEB_SECRET)
    )
    _error(refreshed, 400, "invalid_grant")


def test_as16_concurrent_code_redemption(idp: ProviderHarness) -> None:
    code, verifier, _ = idp.code()
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: idp.exchange(code, verifier), range(20)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) <= 1
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code != 200)
    if winners:
        assert idp.hello(winners[0].json()["access_token"]).status_code == 401
    fresh, fresh_verifier, _ = idp.code()
    assert idp.hello(idp.exchange(fresh, fresh_verifier).json()["access_token"]).status_code == 200


def test_as17_code_bound_to_client(idp: ProviderHarness) -> None:
    code, verifier, _ = idp.code(client_id="web")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": WEB_REDIRECT,
    }
    _error(idp.token({**data, "client_id": "spa"}), 400, "invalid_grant")
    _error(idp.token(data, auth=("legacy", LEGACY_SECRET)), 400, "invalid_grant")
    assert idp.token(data, auth=("web", WEB_SECRET)).status_code == 200


def test_as18_code_bound_to_redirect_uri(idp: ProviderHarness) -> None:
    code, verifier, _ = idp.code()
    for uri in (SPA_REDIRECT + "/", SPA_REDIRECT + "?x=1", None, "http://127.0.0.1:5174/callback"):
        _error(idp.exchange(code, verifier, redirect_uri=uri), 400, "invalid_grant")
    assert idp.exchange(code, verifier).status_code == 200


def test_as19_code_expires_after_60_seconds(idp: ProviderHarness) -> None:
    code, verifier, _ = idp.code()
    idp.clock.advance(61)
    _error(idp.exchange(code, verifier), 400, "invalid_grant")
    fresh, fresh_verifier, _ = idp.code()
    idp.clock.advance(59)
    assert idp.exchange(fresh, fresh_verifier).status_code == 200


def test_as20_injected_code_fails_against_attackers_verifier(idp: ProviderHarness) -> None:
    victim_code, _victim_verifier, _ = idp.code()
    idp.browser = idp.new_browser()
    _attacker_code, attacker_verifier, _ = idp.code(email="bob@example.com")
    _error(idp.exchange(victim_code, attacker_verifier), 400, "invalid_grant")
    fresh, fresh_verifier, _ = idp.code()
    assert idp.exchange(fresh, fresh_verifier).status_code == 200


def test_as21_codes_and_refresh_tokens_are_random_and_only_hashed(idp: ProviderHarness) -> None:
    issued = [idp.tokens() for _ in range(3)]
    refresh = [t["refresh_token"] for t in issued]
    assert len(set(refresh)) == 3
    assert all(len(base64.urlsafe_b64decode(r + "=" * (-len(r) % 4))) >= 32 for r in refresh)
    with sqlite3.connect(idp.store.path) as db:
        dump = "\n".join(db.iterdump())
    for token in refresh:
        assert token not in dump
    from tessera.issue.tokens import new_secret

    sample = {new_secret() for _ in range(10_000)}
    assert len(sample) == 10_000


def test_as35_password_grant_refused(idp: ProviderHarness) -> None:
    response = idp.token(
        {"grant_type": "password", "username": "alice", "password": "x"}, auth=("web", WEB_SECRET)
    )
    _error(response, 400, "unsupported_grant_type")
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert "password" not in meta["grant_types_supported"]
    assert "implicit" not in meta["grant_types_supported"]


def test_as36_other_grant_type_abuse(idp: ProviderHarness) -> None:
    _error(idp.token({}, auth=("svc", SVC_SECRET)), 400, "invalid_request")
    _error(idp.token({"grant_type": "implicit"}, auth=("svc", SVC_SECRET)), 400, "unsupported_grant_type")
    _error(idp.token({"grant_type": "foo"}, auth=("svc", SVC_SECRET)), 400, "unsupported_grant_type")
    _error(idp.token({"grant_type": "client_credentials", "client_id": "spa"}), 400, "unauthorized_client")
    assert idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).status_code == 200


def test_as37_error_format_and_no_store_on_success(idp: ProviderHarness) -> None:
    ok = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
    assert ok.headers["cache-control"] == "no-store"
    assert ok.headers["pragma"] == "no-cache"
    header_used = idp.token({"grant_type": "client_credentials"}, auth=("svc", "wrong"))
    _error(header_used, 401, "invalid_client")
    assert header_used.headers["www-authenticate"].startswith("Basic")
    body_used = idp.token({"grant_type": "client_credentials", "client_id": "svc", "client_secret": "wrong"})
    _error(body_used, 401, "invalid_client")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic " + base64.b64encode(b"svc:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"nobody:" + SVC_SECRET.encode()).decode()},
        {"Authorization": "Basic " + base64.b64encode(b"web:" + SVC_SECRET.encode()).decode()},
        {"Authorization": "Basic " + base64.b64encode(b"svc:").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"svc:" + SVC_SECRET.encode() + b" ").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"svc%zz:x").decode()},
        {"Authorization": "Basic !!!notbase64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer something"},
    ],
)
def test_as38_client_authentication_failures(idp: ProviderHarness, headers: dict[str, str]) -> None:
    response = idp.new_browser().post("/token", data={"grant_type": "client_credentials"}, headers=headers)
    _error(response, 401, "invalid_client")
    assert response.json() == {"error": "invalid_client"}
    assert idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).status_code == 200


def test_as38_unknown_client_and_wrong_secret_look_alike(idp: ProviderHarness) -> None:
    unknown = idp.token({"grant_type": "client_credentials"}, auth=("nobody", SVC_SECRET))
    wrong = idp.token({"grant_type": "client_credentials"}, auth=("svc", "not-the-secret"))
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_as39_more_than_one_authentication_method(idp: ProviderHarness) -> None:
    both = idp.token(
        {"grant_type": "client_credentials", "client_secret": SVC_SECRET}, auth=("svc", SVC_SECRET)
    )
    _error(both, 400, "invalid_request")
    assertion = idp.token(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": "a.b.c",
        },
        auth=("svc", SVC_SECRET),
    )
    _error(assertion, 400, "invalid_request")
    assert (
        idp.token(
            {"grant_type": "client_credentials", "client_id": "svc", "client_secret": SVC_SECRET}
        ).status_code
        == 200
    )


def test_as39_two_authorization_headers_are_two_credentials(idp: ProviderHarness) -> None:
    genuine = "Basic " + base64.b64encode(f"svc:{SVC_SECRET}".encode()).decode()
    for pair in ((genuine, "Basic junk"), ("Basic junk", genuine), (genuine, genuine)):
        response = idp.new_browser().post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=[("Authorization", pair[0]), ("Authorization", pair[1])],
        )
        _error(response, 400, "invalid_request")
    one = idp.new_browser().post(
        "/token", data={"grant_type": "client_credentials"}, headers={"Authorization": genuine}
    )
    assert one.status_code == 200


def test_as40_unregistered_authentication_method(idp: ProviderHarness) -> None:
    post = idp.token(
        {
            "grant_type": "authorization_code",
            "code": "x",
            "client_id": "legacy",
            "client_secret": LEGACY_SECRET,
        }
    )
    _error(post, 401, "invalid_client")
    jwt_client_with_secret = idp.token({"grant_type": "client_credentials"}, auth=("jwt-client", "x" * 40))
    _error(jwt_client_with_secret, 401, "invalid_client")


def test_as41_confidential_client_with_only_client_id(idp: ProviderHarness) -> None:
    _error(idp.token({"grant_type": "client_credentials", "client_id": "svc"}), 401, "invalid_client")


def _assertion(idp: ProviderHarness, key: SigningKey | None = None, **overrides: Any) -> str:
    now = int(idp.clock.now)
    claims: dict[str, Any] = {
        "iss": "jwt-client",
        "sub": "jwt-client",
        "aud": ISSUER,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(8),
    }
    claims.update(overrides)
    return (key or idp.client_key).sign_jwt({k: v for k, v in claims.items() if v is not None})


def _with_assertion(idp: ProviderHarness, assertion: str) -> Any:
    return idp.token(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
    )


def test_as42_private_key_jwt_accepts_a_genuine_assertion(idp: ProviderHarness) -> None:
    assert _with_assertion(idp, _assertion(idp)).status_code == 200


def test_as42_private_key_jwt_assertion_attacks(idp: ProviderHarness) -> None:
    public_pem = idp.client_key.public_key.public_bytes(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM,
        __import__(
            "cryptography.hazmat.primitives.serialization", fromlist=["PublicFormat"]
        ).PublicFormat.SubjectPublicKeyInfo,
    )
    now = int(idp.clock.now)
    body = {"iss": "jwt-client", "sub": "jwt-client", "aud": ISSUER, "iat": now, "exp": now + 60, "jti": "h"}
    hs256 = sign_compact(
        {"alg": "HS256", "kid": idp.client_key.kid}, json_dumps(body), hmac_signer(public_pem)
    )
    none = sign_compact({"alg": "none"}, json_dumps({**body, "jti": "n"}), lambda _: b"")
    provider_key = idp.provider.keys.signing_key()
    attacks = [
        hs256,
        none,
        _assertion(idp, aud="https://other-as.example"),
        _assertion(idp, aud=[ISSUER, "https://other-as.example"]),
        _assertion(idp, aud=[ISSUER]),
        _assertion(idp, iss="svc"),
        _assertion(idp, sub="svc"),
        _assertion(idp, exp=now + 600),
        _assertion(idp, key=provider_key),
        _assertion(idp, exp=now - 120),
        _assertion(idp, jti=None),
    ]
    for attack in attacks:
        _error(_with_assertion(idp, attack), 401, "invalid_client")
    replayed = _assertion(idp, jti="once")
    assert _with_assertion(idp, replayed).status_code == 200
    _error(_with_assertion(idp, replayed), 401, "invalid_client")
    _error(_with_assertion(idp, _assertion(idp, jti="once", iat=now - 1)), 401, "invalid_client")
    assert _with_assertion(idp, _assertion(idp)).status_code == 200


def test_as43_weak_client_secrets_refused_at_registration(idp: ProviderHarness) -> None:
    with pytest.raises(ConfigurationError):
        register_client(idp.store, ClientRecord(client_id="weak", auth_methods=("client_secret_basic",)))
    from tessera.issue.dev.provider import dev_provider

    with pytest.raises(ConfigurationError):
        dev_provider(idp.store.path + ".dev", ISSUER, environ={"TESSERA_DEV_SERVICE_SECRET": "short-secret"})


def test_client_credentials_scope_and_subject(idp: ProviderHarness) -> None:
    body = idp.token(
        {"grant_type": "client_credentials", "scope": "demo:read"}, auth=("svc", SVC_SECRET)
    ).json()
    assert body["scope"] == "demo:read"
    assert "refresh_token" not in body
    assert idp.hello(body["access_token"]).json()["subject"] == "svc"
    _error(
        idp.token({"grant_type": "client_credentials", "scope": "admin"}, auth=("svc", SVC_SECRET)),
        400,
        "invalid_scope",
    )


def test_as27_duplicate_token_parameters(idp: ProviderHarness) -> None:
    response = idp.new_browser().post(
        "/token",
        content="grant_type=client_credentials&grant_type=password",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=("svc", SVC_SECRET),
    )
    _error(response, 400, "invalid_request")
    code, verifier, _ = idp.code()
    doubled = idp.new_browser().post(
        "/token",
        content=f"grant_type=authorization_code&code={code}&code={code}&client_id=spa&code_verifier={verifier}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _error(doubled, 400, "invalid_request")
    assert idp.exchange(code, verifier).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"grant_type":"client_credentials"}', "application/json"),
        ("grant_type=client_credentials&%ff=1", "application/x-www-form-urlencoded"),
        ("grant_type=\u00e9", "application/x-www-form-urlencoded"),
        ("a=" + "x" * 70_000, "application/x-www-form-urlencoded"),
    ],
)
def test_g1_malformed_token_requests_get_invalid_request(
    idp: ProviderHarness, content: str, content_type: str
) -> None:
    response = idp.new_browser().post(
        "/token", content=content.encode(), headers={"Content-Type": content_type}, auth=("svc", SVC_SECRET)
    )
    _error(response, 400, "invalid_request")
