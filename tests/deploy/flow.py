"""The whole sign-in and token flow, driven through any transport a deployed provider answers on.

Email code sign-in (the code read from the mail that reached an SMTP server), the code redeemed
with PKCE, the id token checked against the provider's JWKS, userinfo, a refresh rotation, and
the refusals that prove each step is real: a wrong code, a replayed code,
a forged access token, a rotated refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import jwt

CLIENT_ID = "deploy-app"
REDIRECT = "https://app.example/callback"
EMAIL = "alice@example.com"
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request)" value="([^"]*)">')


def _hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def _follow(http: httpx.Client, response: httpx.Response, issuer: str) -> httpx.Response:
    for _ in range(8):
        if response.status_code not in (302, 303):
            return response
        location = urljoin(str(response.url), response.headers["location"])
        if not location.startswith(issuer):
            return response
        response = http.get(location)
    raise AssertionError("too many redirects")


def run_flow(http: httpx.Client, issuer: str, read_code: Callable[[], str]) -> dict[str, Any]:
    """Sign in as alice and use the tokens; the last token response. Asserts every step."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid email offline_access",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = _follow(http, http.get(f"{issuer}/authorize?{query}"), issuer)
    assert page.status_code == 200 and "/signin" in str(page.url), page.status_code
    posted = http.post(f"{issuer}/signin", data={**_hidden(page.text), "email": EMAIL})
    assert posted.status_code == 303, posted.text
    code_page = http.get(urljoin(str(posted.url), posted.headers["location"]))
    assert code_page.status_code == 200
    fields = _hidden(code_page.text)
    wrong = http.post(f"{issuer}/signin/code", data={**fields, "code": "000000"})
    assert wrong.status_code != 303  # a wrong code signs nobody in
    done = http.post(f"{issuer}/signin/code", data={**fields, "code": read_code()})
    assert done.status_code == 303, done.text
    final = _follow(http, http.get(urljoin(str(done.url), done.headers["location"])), issuer)
    assert final.status_code in (302, 303) and final.headers["location"].startswith(REDIRECT)
    answer = {k: v[0] for k, v in parse_qs(urlsplit(final.headers["location"]).query).items()}
    assert answer["state"] == state

    exchange = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
    }
    return _tokens(http, issuer, exchange, verifier, nonce)


def _tokens(
    http: httpx.Client, issuer: str, exchange: dict[str, str], verifier: str, nonce: str
) -> dict[str, Any]:
    token = http.post(f"{issuer}/token", data={**exchange, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    tokens: dict[str, Any] = token.json()

    keys = jwt.PyJWKSet.from_dict(http.get(f"{issuer}/jwks").json())
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(tokens["id_token"], key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=issuer)
    assert claims["email"] == EMAIL and claims["nonce"] == nonce

    info = http.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200 and info.json()["email"] == EMAIL
    forged = tokens["access_token"][:-4] + ("AAAA" if not tokens["access_token"].endswith("AAAA") else "BBBB")
    assert http.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {forged}"}).status_code == 401

    refresh = {"grant_type": "refresh_token", "client_id": CLIENT_ID}
    rotated = http.post(f"{issuer}/token", data={**refresh, "refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    newer: dict[str, Any] = rotated.json()
    assert newer["refresh_token"] != tokens["refresh_token"]
    again = http.post(f"{issuer}/token", data={**refresh, "refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    info = http.get(f"{issuer}/userinfo", headers={"Authorization": f"Bearer {newer['access_token']}"})
    assert info.status_code == 200 and info.json()["sub"] == claims["sub"]

    replay = http.post(f"{issuer}/token", data={**exchange, "code_verifier": verifier})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # a replayed code revokes what it issued (RFC 6749 section 4.1.2), rotated tokens included
    bearer = {"Authorization": f"Bearer {newer['access_token']}"}
    assert http.get(f"{issuer}/userinfo", headers=bearer).status_code == 401
    return newer
