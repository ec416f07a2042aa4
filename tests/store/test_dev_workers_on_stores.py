"""``tessera dev --workers 4`` on one PostgreSQL store (``TESSERA_STORE``): four provider processes race.

Fifty concurrent clients hit ``/token`` over real connections, spread by the kernel over the
four worker processes, each with its own connection pool: one code is redeemed once, one refresh
token has one successor, client_credentials never fails.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tessera.testing.devserver import DevServer, free_port
from tessera.testing.signin import sign_in_via_outbox

from .conftest import fresh_store_url

SERVICE_SECRET = "dev-service-secret-" + "w" * 32
RACERS = 50


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DevServer]:
    url = fresh_store_url("postgresql", request, tmp_path)
    env = {"TESSERA_STORE": url, "TESSERA_DEV_SERVICE_SECRET": SERVICE_SECRET}
    with DevServer(users=["alice@example.com"], data=tmp_path / "dev", env=env, workers=4) as running:
        assert "(store from TESSERA_STORE)" in running.output()
        yield running


def _code(server: DevServer, browser: httpx.Client) -> tuple[str, str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    params = {
        "client_id": "dev-spa",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid offline_access",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    callback = sign_in_via_outbox(
        browser, f"{server.issuer}/authorize?{urlencode(params)}", "alice@example.com", issuer=server.issuer
    )
    return httpx.URL(callback).params["code"], verifier, redirect_uri


def _post_all(server: DevServer, forms: list[dict[str, str]], **kwargs: Any) -> list[httpx.Response]:
    """Each form POSTed to /token at once, each on a connection of its own."""

    def post(form: dict[str, str]) -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            return client.post(f"{server.issuer}/token", data=form, **kwargs)

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        return list(pool.map(post, forms))


def test_four_workers_on_postgresql_redeem_once_rotate_once_and_serve_every_service(
    server: DevServer,
) -> None:
    services = _post_all(
        server, [{"grant_type": "client_credentials"}] * RACERS, auth=("dev-service", SERVICE_SECRET)
    )
    assert [r.status_code for r in services] == [200] * RACERS
    with httpx.Client(timeout=30) as browser:
        code, verifier, redirect_uri = _code(server, browser)
    redeem = {
        "grant_type": "authorization_code",
        "client_id": "dev-spa",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri,
    }
    redemptions = _post_all(server, [redeem] * RACERS)
    assert sorted(r.status_code for r in redemptions) == [200] + [400] * (RACERS - 1)
    with httpx.Client(timeout=30) as browser:
        code, verifier, redirect_uri = _code(server, browser)
    second = {**redeem, "code": code, "code_verifier": verifier, "redirect_uri": redirect_uri}
    tokens = httpx.post(f"{server.issuer}/token", data=second).json()
    refresh = {
        "grant_type": "refresh_token",
        "client_id": "dev-spa",
        "refresh_token": tokens["refresh_token"],
    }
    refreshes = _post_all(server, [refresh] * RACERS)
    winners = [r.json() for r in refreshes if r.status_code == 200]
    assert len(winners) == 1
    assert {r.json()["error_description"] for r in refreshes if r.status_code != 200} == {
        "the refresh token was just rotated; use its successor"
    }
    successor = {**refresh, "refresh_token": winners[0]["refresh_token"]}
    assert httpx.post(f"{server.issuer}/token", data=successor).status_code == 200
