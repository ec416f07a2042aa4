"""``/userinfo`` (OpenID Connect Core §5.3): the signed-in user's claims for a bearer access token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.errors import TokenError
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.tokens import user_claims
from tessera.issue.web import (
    json_response,
    provider_of,
)
from tessera.protect.bearer import parse_authorization

__all__ = ["userinfo"]


def _bearer_error(error: str, status: int) -> Response:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return json_response({"error": error} if error else {}, status, {"WWW-Authenticate": challenge})


async def userinfo(request: Request) -> Response:
    """GET or POST ``/userinfo`` with a bearer access token carrying scope ``openid``."""
    provider = provider_of(request)
    headers = request.headers.getlist("authorization")
    if len(headers) > 1:
        return _bearer_error("invalid_request", 400)
    try:
        token = parse_authorization(headers[0]) if headers else None
    except TokenError as exc:  # the same header rules as every protected route (RFC 6750 §2.1)
        return _bearer_error(exc.error, exc.status)
    if token is None:
        return _bearer_error("", 401)
    return await off_loop(provider, _userinfo, provider, token)


def _userinfo(provider: Provider, token: str) -> Response:
    try:
        claims = provider.check_access_token(token)
    except TokenError:
        return _bearer_error("invalid_token", 401)
    if "openid" not in claims.scopes:
        return _bearer_error("insufficient_scope", 403)
    user = provider.store.get_user(claims.subject or "")
    if user is None or user.disabled:
        return _bearer_error("invalid_token", 401)
    return json_response({"sub": user.user_id, **user_claims(user, claims.scopes)})
