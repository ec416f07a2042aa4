"""``/revoke`` (RFC 7009) and ``/introspect`` (RFC 7662): what a client may end or learn of its tokens."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.errors import TesseraError, TokenError
from tessera.issue.endpoints.client_auth import authenticated, client_form
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.web import (
    NO_STORE,
    json_response,
    oauth_error,
    provider_of,
)
from tessera.store import AccessTokenRecord, ClientRecord, RefreshState, secret_hash
from tessera.verify.jws import DEFAULT_MAX_TOKEN_BYTES

__all__ = ["introspect", "revoke"]


def _client_request(
    provider: Provider, request: Request, form: dict[str, str]
) -> tuple[ClientRecord, dict[str, str]] | Response:
    client = authenticated(provider, request, form)
    if isinstance(client, Response):
        return client
    if "token" not in form or len(form["token"]) > DEFAULT_MAX_TOKEN_BYTES:
        return oauth_error("invalid_request", "token is required")
    return client, form


async def revoke(request: Request) -> Response:
    """POST ``/revoke``: 200 whatever the token was, acting only on the caller's own tokens."""
    provider = provider_of(request)
    form = await client_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, _revoke, provider, request, form)


def _revoke(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    outcome = _client_request(provider, request, form)
    if isinstance(outcome, Response):
        return outcome
    client, form = outcome
    value = form["token"]
    refresh = provider.store.get_refresh(secret_hash(value))
    if refresh is not None:
        if refresh.client_id == client.client_id:
            provider.store.revoke_grant(refresh.grant_id)
            provider.audit.event("token_revoked", client_id=client.client_id, grant_id=refresh.grant_id)
    elif value.count(".") == 2:
        try:
            claims = provider.verifier.verify(value)
        except TesseraError:
            claims = None
        if claims is not None and claims.client_id == client.client_id and isinstance(claims.get("jti"), str):
            provider.store.revoke_access_token(
                AccessTokenRecord(claims["jti"], client.client_id, None, claims.expires_at)
            )
            provider.audit.event("token_revoked", client_id=client.client_id)
    return Response(status_code=200, headers=NO_STORE)


def _introspect_refresh(provider: Provider, client: ClientRecord, value: str) -> dict[str, Any] | None:
    record = provider.store.get_refresh(secret_hash(value))
    now = provider.now()
    if record is None or record.client_id != client.client_id:
        return None
    grant = provider.store.get_grant(record.grant_id)
    if record.state is not RefreshState.ACTIVE or record.expires_at <= now or grant is None or grant.revoked:
        return None
    body: dict[str, Any] = {
        "active": True,
        "token_type": "refresh_token",
        "client_id": record.client_id,
        "scope": grant.scope,
        "exp": int(record.expires_at),
        "iat": int(record.issued_at),
        "iss": provider.settings.issuer,
    }
    if grant.user_id is not None:
        body["sub"] = grant.user_id
    return body


async def introspect(request: Request) -> Response:
    """POST ``/introspect``: confidential clients only; tokens of other clients read as inactive."""
    provider = provider_of(request)
    form = await client_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, _introspect, provider, request, form)


def _introspect(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    outcome = _client_request(provider, request, form)
    if isinstance(outcome, Response):
        return outcome
    client, form = outcome
    if client.public:
        return oauth_error("invalid_client", None, 401)
    value = form["token"]
    body = _introspect_refresh(provider, client, value)
    if body is None and value.count(".") == 2:
        try:
            claims = provider.check_access_token(value)
        except TokenError:
            claims = None
        if claims is not None and (
            claims.client_id == client.client_id or client.client_id in claims.audience
        ):
            body = {"active": True, "token_type": "Bearer", **dict(claims.raw)}
    return json_response(body or {"active": False})
