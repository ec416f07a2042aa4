"""Tokens from a real ``tessera dev`` started with ``examples/tessera.toml``, as the READMEs get them."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import httpx

from tessera.testing.devserver import DevServer
from tessera.testing.idp import pkce_pair, query_of
from tessera.testing.signin import sign_in_via_outbox

SERVICE = "orders-service"
WEB = "orders-web"
WEB_CALLBACK = "http://127.0.0.1:5173/callback"


def claims_of(token: str) -> dict[str, Any]:
    """The (unverified) payload of a JWT, to look at what the provider put in it."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def service_token(dev: DevServer, secret: str, **form: str) -> httpx.Response:
    """``curl -u orders-service:$ORDERS_SERVICE_SECRET -d grant_type=client_credentials .../token``."""
    return httpx.post(
        f"{dev.issuer}/token", data={"grant_type": "client_credentials", **form}, auth=(SERVICE, secret)
    )


def user_token(dev: DevServer, email: str, scope: str, **extra: str) -> httpx.Response:
    """Sign ``email`` in to ``orders-web`` (code + PKCE, code from the dev outbox); the token response."""
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": WEB,
        "redirect_uri": WEB_CALLBACK,
        "scope": scope,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    with httpx.Client() as browser:
        callback = sign_in_via_outbox(
            browser, f"{dev.issuer}/authorize?{urlencode(query)}", email, issuer=dev.issuer
        )
    code = query_of(callback)["code"]
    return httpx.post(
        f"{dev.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": WEB_CALLBACK,
            "client_id": WEB,
            "code_verifier": verifier,
        },
    )
