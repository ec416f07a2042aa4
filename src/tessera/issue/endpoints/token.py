"""``/token``: client authentication, then one of three grants; RFC 6749 §5.1/§5.2 responses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.issue.addresses import request_address
from tessera.issue.endpoints.client_auth import authenticated, client_form
from tessera.issue.endpoints.grants import (
    GrantError,
    authorization_code_grant,
    client_credentials_grant,
    refresh_token_grant,
)
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.web import json_response, oauth_error

__all__ = ["GRANT_TYPES", "token"]

GRANTS = {
    "authorization_code": authorization_code_grant,
    "refresh_token": refresh_token_grant,
    "client_credentials": client_credentials_grant,
}
GRANT_TYPES = tuple(GRANTS)


async def token(request: Request) -> Response:
    """POST ``/token``: the form is read on the loop, the rest (store, signature) off it."""
    provider: Provider = request.app.state.provider
    form = await client_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, _token, provider, request, form)


def _token(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    per_address = provider.settings.token_requests_per_minute_per_address
    if per_address is not None:
        address = request_address(request, provider.settings.proxy_networks)
        wait = provider.limits.hit(f"token-address:{address}", per_address)
        if wait is not None:
            return oauth_error("invalid_request", "too many requests", 429, {"Retry-After": str(wait)})
    client = authenticated(provider, request, form)
    if isinstance(client, Response):
        return client
    grant_type = form.get("grant_type")
    if grant_type is None:
        return oauth_error("invalid_request", "grant_type is required")
    grant = GRANTS.get(grant_type)
    if grant is None:
        return oauth_error("unsupported_grant_type", "the grant type is not supported")
    provider.housekeeping()
    try:
        issued = grant(provider, client, form)
    except GrantError as exc:
        return oauth_error(exc.error, exc.description)
    return json_response(issued.response())
