"""``tessera dev``'s own pages: ``/`` (what runs, a Sign in button), ``/dev/callback`` (the tokens
the button got, decoded) and ``/dev/outbox.html`` (the dev outbox as HTML).

The Sign in button runs the ``dev-spa`` code flow with PKCE to ``{issuer}/dev/callback``; the
state and the PKCE verifier wait in an HttpOnly cookie, and the callback redeems the code in
process (server-side rendering: no script runs on these pages, the CSP forbids it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tessera.encoding import EncodingError, b64url_decode, json_object
from tessera.issue.endpoints.grants import GrantError, authorization_code_grant
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.web import NO_STORE, BadParameters, page, provider_of

__all__ = ["DEV_CALLBACK_PATH", "DEV_CLIENT_ID", "dev_page_routes"]

DEV_CLIENT_ID = "dev-spa"
DEV_CALLBACK_PATH = "/dev/callback"
DEV_LOGIN_SCOPE = "openid profile email offline_access demo:read"
_LOGIN_COOKIE = "tessera-dev-login"
_LOGIN_SECONDS = 600


def _callback_uri(provider: Provider) -> str:
    return provider.settings.issuer + DEV_CALLBACK_PATH


def _apis(provider: Provider) -> list[dict[str, Any]]:
    """The APIs this provider issues tokens for: the built-in demo API, then the configured ones."""
    base = provider.settings.issuer
    demo = {
        "audience": provider.settings.token_audience,
        "scopes": ["demo:read"],
        "routes": [(f"{base}/demo/hello", "scope demo:read"), (f"{base}/demo/admin", "role admin")],
    }
    configured = [
        {"audience": api.audience, "scopes": sorted(api.scopes), "routes": []}
        for api in provider.settings.apis
    ]
    return [demo, *configured]


async def home(request: Request) -> Response:
    """GET ``/``: the issuer, its clients and APIs, and a Sign in button."""
    provider = provider_of(request)
    return await off_loop(provider, _home, provider)


def _home(provider: Provider) -> Response:
    list_clients = getattr(provider.store, "list_clients", None)
    clients = list(list_clients()) if callable(list_clients) else []
    return page(
        "dev_home.html",
        issuer=provider.settings.issuer,
        base=provider.settings.base_path,
        clients=clients,
        apis=_apis(provider),
    )


async def start_login(request: Request) -> Response:
    """GET ``/dev/login``: start the ``dev-spa`` flow (state and PKCE verifier in a cookie)."""
    provider = provider_of(request)
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": DEV_CLIENT_ID,
        "redirect_uri": _callback_uri(provider),
        "scope": DEV_LOGIN_SCOPE,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = RedirectResponse(
        f"{provider.settings.base_path}/authorize?{urlencode(query)}", status_code=303, headers=NO_STORE
    )
    provider.cookies.set(response, _LOGIN_COOKIE, f"{state}.{verifier}", _LOGIN_SECONDS)
    return response


def decode_token(token: str) -> dict[str, Any]:
    """The header and claims of a token this provider just issued, for display."""
    try:
        header, claims = (json_object(b64url_decode(part)) for part in token.split(".")[:2])
    except (EncodingError, ValueError):
        return {"raw": token, "header": "(not a JWT)", "claims": ""}
    return {
        "raw": token,
        "header": json.dumps(header, indent=2, ensure_ascii=False),
        "claims": json.dumps(claims, indent=2, ensure_ascii=False),
    }


def _failed(provider: Provider, message: str, status: int = 400) -> Response:
    response = page("dev_callback.html", status, error=message, base=provider.settings.base_path)
    provider.cookies.clear(response, _LOGIN_COOKIE)
    return response


async def callback(request: Request) -> Response:
    """GET ``/dev/callback``: check ``state`` and ``iss``, redeem the code, show the tokens."""
    provider = provider_of(request)
    params = request.query_params
    try:
        cookie = provider.cookies.read(request, _LOGIN_COOKIE) or ""
    except BadParameters:
        cookie = ""
    state, _, verifier = cookie.partition(".")
    if not state or not hmac.compare_digest(params.get("state", "").encode(), state.encode()):
        return _failed(provider, "This answer does not belong to a sign-in started here. Start again.")
    if params.get("iss") != provider.settings.issuer:
        return _failed(provider, "This answer names another issuer. Start again.")
    if "error" in params:
        return _failed(
            provider, f"The sign-in ended with {params['error']}: {params.get('error_description', '')}"
        )
    return await off_loop(provider, _redeem, provider, params.get("code", ""), verifier)


def _redeem(provider: Provider, code: str, verifier: str) -> Response:
    client = provider.store.get_client(DEV_CLIENT_ID)
    if client is None:
        return _failed(provider, f"The {DEV_CLIENT_ID} client is gone.", 500)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _callback_uri(provider),
        "code_verifier": verifier,
    }
    try:
        issued = authorization_code_grant(provider, client, form)
    except GrantError as exc:
        return _failed(provider, f"The code was refused: {exc.error} ({exc.description or ''})")
    tokens = issued.response()
    response = page(
        "dev_callback.html",
        base=provider.settings.base_path,
        issuer=provider.settings.issuer,
        access=decode_token(tokens["access_token"]),
        id_token=decode_token(tokens["id_token"]) if "id_token" in tokens else None,
        scope=tokens["scope"],
        expires_in=tokens["expires_in"],
        has_refresh="refresh_token" in tokens,
    )
    provider.cookies.clear(response, _LOGIN_COOKIE)
    return response


async def outbox_page(request: Request) -> Response:
    """GET ``/dev/outbox.html``: the dev outbox, newest first."""
    provider = provider_of(request)
    messages = await off_loop(provider, provider.outbox.messages) if provider.outbox is not None else []
    return page("dev_outbox.html", messages=messages, base=provider.settings.base_path)


def dev_page_routes() -> list[Route]:
    """The routes of the dev pages (``tessera dev`` only)."""
    return [
        Route("/", home),
        Route("/dev/login", start_login),
        Route(DEV_CALLBACK_PATH, callback),
        Route("/dev/outbox.html", outbox_page),
    ]
