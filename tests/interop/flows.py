"""The authorization code flow with PKCE, step by step over plain HTTP, for black-box checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from .providers import API, OP, browser


def s256(verifier: str) -> str:
    """The PKCE S256 challenge for ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AuthorizationRequest:
    """One authorization request: its URL and the secrets the client keeps to finish it."""

    url: str
    state: str
    nonce: str | None
    code_verifier: str


@dataclass(frozen=True)
class Callback:
    """The parameters the provider sent back to the redirect URI."""

    url: str
    params: dict[str, str]
    fragment: str


def authorization_request(
    op: OP, *, nonce: bool = True, extra: Mapping[str, str] | None = None
) -> AuthorizationRequest:
    """An authorization request for the public client; ``extra`` overrides or adds parameters."""
    state = secrets.token_urlsafe(16)
    nonce_value = secrets.token_urlsafe(16) if nonce else None
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": op.public_client_id,
        "redirect_uri": op.redirect_uri,
        "scope": op.scope,
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **op.resource_params(),
        **op.authorization_params,
        **({"nonce": nonce_value} if nonce_value else {}),
        **(extra or {}),
    }
    endpoint = op.discovery()["authorization_endpoint"]
    return AuthorizationRequest(f"{endpoint}?{urlencode(params)}", state, nonce_value, verifier)


def parse_callback(url: str) -> Callback:
    """Split a callback URL into its query parameters (each must appear once) and fragment."""
    parts = urlsplit(url)
    multi = parse_qs(parts.query, keep_blank_values=True)
    assert all(len(values) == 1 for values in multi.values()), f"repeated callback parameter in {multi}"
    return Callback(url, {name: values[0] for name, values in multi.items()}, parts.fragment)


def sign_in(op: OP, request: AuthorizationRequest) -> Callback:
    """Drive the provider's sign-in for ``request`` and parse where it lands."""
    return parse_callback(op.sign_in(request.url))


def redeem_code(op: OP, code: str, code_verifier: str | None, **extra: str) -> httpx.Response:
    """POST the authorization code grant for the public client (``None``: no ``code_verifier``)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": op.redirect_uri,
        "client_id": op.public_client_id,
        **extra,
    }
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return API.post(op.discovery()["token_endpoint"], data=form)


def refresh(op: OP, refresh_token: str, **extra: str) -> httpx.Response:
    """POST the refresh_token grant for the public client."""
    return API.post(
        op.discovery()["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": op.public_client_id,
            **extra,
        },
    )


def signed_in_tokens(op: OP) -> tuple[AuthorizationRequest, dict[str, Any]]:
    """A complete code flow: the request made and the token endpoint's JSON answer."""
    request = authorization_request(op)
    callback = sign_in(op, request)
    response = redeem_code(op, callback.params["code"], request.code_verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert isinstance(tokens, dict)
    return request, tokens


def follow_without_signing_in(url: str, redirect_uri: str) -> Callback | httpx.Response:
    """Follow redirects from ``url`` without submitting any form.

    Returns the parsed callback if the chain reaches ``redirect_uri``, else the last response
    (an error or sign-in page).
    """
    with browser() as session:
        response = session.get(url)
        for _ in range(10):
            if not response.is_redirect:
                return response
            location = str(response.url.join(response.headers["location"]))
            if location.startswith(redirect_uri):
                return parse_callback(location)
            response = session.get(location)
    raise AssertionError("too many redirects")
