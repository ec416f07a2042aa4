"""``tessera dev`` as a real process on 127.0.0.1: the happy path, attacks, rotation, first start."""

from __future__ import annotations

import base64
import hashlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tessera.testing.devserver import DevServer, free_port
from tessera.testing.signin import run_sign_in, sign_in_via_outbox, submit_consent
from tessera.verify import Verifier

SERVICE_SECRET = "dev-service-secret-" + "s" * 32
_browsers: dict[str, httpx.Client] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    data = tmp_path_factory.mktemp("dev-data")
    with DevServer(
        users=["alice@example.com:admin", "bob@example.com"],
        data=data,
        env={"TESSERA_DEV_SERVICE_SECRET": SERVICE_SECRET},
    ) as running:
        yield running
    for browser in _browsers.values():
        browser.close()
    _browsers.clear()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"="
    ).decode()


def _authorize_url(server: DevServer, challenge: str, redirect_uri: str, **extra: str) -> str:
    params = {
        "client_id": "dev-spa",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid offline_access demo:read",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{server.issuer}/authorize?{urlencode(params)}"


def _tokens(server: DevServer, email: str = "alice@example.com") -> tuple[dict[str, Any], str]:
    verifier, challenge = _pkce()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    # One browser per user: later flows reuse its session, as a person would (and as the
    # one-time code resend throttle expects).
    browser = _browsers.setdefault(email, httpx.Client(timeout=10))
    callback = sign_in_via_outbox(
        browser, _authorize_url(server, challenge, redirect_uri), email, issuer=server.issuer
    )
    code = httpx.URL(callback).params["code"]
    response = _redeem(server, code, verifier, redirect_uri)
    assert response.status_code == 200, response.text
    return response.json(), code


def _redeem(
    server: DevServer, code: str, verifier: str, redirect_uri: str | None = None, client_id: str = "dev-spa"
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    if redirect_uri is not None:
        data["redirect_uri"] = redirect_uri
    return httpx.post(f"{server.issuer}/token", data=data, timeout=10)


def test_dev_happy_path_sign_in_demo_api_and_service(server: DevServer) -> None:
    tokens, _ = _tokens(server)
    hello = httpx.get(
        f"{server.issuer}/demo/hello", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert hello.status_code == 200
    subject = hello.json()["subject"]
    assert subject.startswith("usr_")
    admin = httpx.get(
        f"{server.issuer}/demo/admin", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert admin.json()["subject"] == subject
    refreshed = httpx.post(
        f"{server.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "dev-spa",
        },
    )
    assert refreshed.status_code == 200
    service = httpx.post(
        f"{server.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("dev-service", SERVICE_SECRET),
    ).json()
    hello = httpx.get(
        f"{server.issuer}/demo/hello", headers={"Authorization": f"Bearer {service['access_token']}"}
    )
    assert hello.json()["subject"] == "dev-service"
    assert httpx.get(f"{server.issuer}/demo/hello").status_code == 401
    assert "dev outbox" in server.output()


def test_dev_bob_is_not_admin(server: DevServer) -> None:
    tokens, _ = _tokens(server, "bob@example.com")
    admin = httpx.get(
        f"{server.issuer}/demo/admin", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert admin.status_code == 403


def test_dev_as01_bad_redirect_gets_error_page(server: DevServer) -> None:
    _, challenge = _pkce()
    for uri in ("https://evil.example/callback", "http://127.0.0.1:80@evil.example/callback"):
        response = httpx.get(_authorize_url(server, challenge, uri))
        assert response.status_code == 400
        assert "location" not in response.headers
    good = httpx.get(_authorize_url(server, challenge, f"http://127.0.0.1:{free_port()}/callback"))
    assert good.status_code == 303


def test_dev_as15_code_reuse_revokes(server: DevServer) -> None:
    tokens, code = _tokens(server)
    replay = _redeem(server, code, "x" * 43)
    assert replay.json()["error"] == "invalid_grant"
    hello = httpx.get(
        f"{server.issuer}/demo/hello", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert hello.status_code == 401


def test_dev_as38_wrong_service_secret(server: DevServer) -> None:
    response = httpx.post(
        f"{server.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=("dev-service", "wrong" * 10),
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
    assert "wrong" * 10 not in server.output()


def test_dev_key_rotation_keeps_cached_verifier_working(server: DevServer) -> None:
    cached_jwks = httpx.get(f"{server.issuer}/jwks").json()
    verifier = Verifier(issuer=server.issuer, audience=server.issuer, token_type="at+jwt", jwks=cached_jwks)
    before, _ = _tokens(server)
    rotated = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "keys", "rotate", "--data", str(server.data)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rotated.returncode == 0, rotated.stderr
    after, _ = _tokens(server)
    assert before["access_token"].split(".")[0] != after["access_token"].split(".")[0]
    assert verifier.verify(before["access_token"]).subject == verifier.verify(after["access_token"]).subject
    published = {k["kid"] for k in httpx.get(f"{server.issuer}/jwks").json()["keys"]}
    assert len(published) == 3


def test_dev_first_start_prints_service_secret_once(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    with DevServer(users=[], data=data, env={"TESSERA_DEV_SERVICE_SECRET": ""}) as first:
        assert "dev-service secret, shown once" in first.output()
        exports = [line for line in first.output().splitlines() if line.startswith("export ")]
        assert len(exports) == 1
        secret = exports[0].partition("=")[2]
        service = httpx.post(
            f"{first.issuer}/token", data={"grant_type": "client_credentials"}, auth=("dev-service", secret)
        )
        assert service.status_code == 200
    with DevServer(users=[], data=data, env={"TESSERA_DEV_SERVICE_SECRET": ""}) as second:
        assert "shown once" not in second.output()
        assert "export " not in second.output()
        meta = httpx.get(f"{second.issuer}/.well-known/openid-configuration").json()
        assert meta["issuer"] == second.issuer


def test_dev_server_that_loses_its_port_to_a_stranger_moves_on(
    tmp_path: Path, http_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.keys import SigningKey
    from tessera.testing import Response, devserver

    stranger = SigningKey.generate("ES256")
    http_server.routes["/jwks"] = Response.json({"keys": [stranger.public_jwk()]})
    ports = iter([http_server.port])
    probe = devserver.free_port
    monkeypatch.setattr(devserver, "free_port", lambda: next(ports, None) or probe())
    with DevServer(users=[], data=tmp_path / "dev") as running:
        assert running.port != http_server.port
        served = {key["kid"] for key in httpx.get(f"{running.issuer}/jwks").json()["keys"]}
        assert len(served) == 3
        assert stranger.kid not in served
        assert (
            httpx.get(f"{running.issuer}/.well-known/openid-configuration").json()["issuer"] == running.issuer
        )
    assert http_server.count("/jwks") >= 1


def test_dev_partner_is_third_party_and_asks_for_consent_until_allowed(server: DevServer) -> None:
    browser = _browsers.setdefault("alice@example.com", httpx.Client(timeout=10))
    verifier, challenge = _pkce()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    url = _authorize_url(server, challenge, redirect_uri, client_id="dev-partner")

    def params_of(response: httpx.Response) -> httpx.QueryParams:
        assert response.status_code in (302, 303)
        location = httpx.URL(response.headers["location"])
        assert str(location.copy_with(query=None)) == redirect_uri
        return location.params

    first = run_sign_in(browser, url, "alice@example.com", issuer=server.issuer)
    assert "/consent" in str(first.url) and "Development third-party app" in first.text
    assert params_of(submit_consent(browser, first, "deny", issuer=server.issuer))["error"] == "access_denied"

    again = run_sign_in(browser, url, "alice@example.com", issuer=server.issuer)
    assert "/consent" in str(again.url)  # a denial records nothing
    code = params_of(submit_consent(browser, again, "approve", issuer=server.issuer))["code"]
    token = _redeem(server, code, verifier, redirect_uri, client_id="dev-partner")
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    hello = httpx.get(f"{server.issuer}/demo/hello", headers={"Authorization": f"Bearer {access}"})
    assert hello.status_code == 200

    _, challenge = _pkce()
    allowed = run_sign_in(
        browser,
        _authorize_url(server, challenge, redirect_uri, client_id="dev-partner"),
        "alice@example.com",
        issuer=server.issuer,
    )
    assert params_of(allowed)["code"]  # the consent now covers these scopes: no page
