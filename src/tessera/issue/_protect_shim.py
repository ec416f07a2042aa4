"""Temporary stand-in for ``tessera.protect.asgi.authorize`` until the protect branch lands.

Same call shape: ``authorize(verifier, scopes=..., roles=...)`` wraps a Starlette endpoint and
answers RFC 6750 errors; ``get_principal(request)`` returns the verified claims.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import Reason, TokenError
from ..verify import Claims, Verifier

__all__ = ["authorize", "get_principal"]

Endpoint = Callable[[Request], Awaitable[Response]]


def get_principal(request: Request) -> Claims:
    """The claims of the request's verified bearer token."""
    claims: Claims = request.state.principal
    return claims


def _error(exc: TokenError) -> Response:
    challenge = f'Bearer error="{exc.error}"' if exc.error else "Bearer"
    return JSONResponse(
        {"error": exc.error} if exc.error else {}, exc.status, {"WWW-Authenticate": challenge}
    )


def authorize(
    verifier: Verifier, *, scopes: Iterable[str] = (), roles: Iterable[str] = ()
) -> Callable[[Endpoint], Endpoint]:
    """Require a valid bearer token with every scope in ``scopes`` and every role in ``roles``."""
    needed_scopes, needed_roles = frozenset(scopes), frozenset(roles)

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            headers = request.headers.getlist("authorization")
            try:
                if not headers:
                    raise TokenError(Reason.MISSING_TOKEN)
                scheme, _, token = headers[0].partition(" ")
                if len(headers) > 1 or scheme.lower() != "bearer" or not token or " " in token:
                    raise TokenError(Reason.INVALID_REQUEST)
                claims = await verifier.averify(token)
                if not needed_scopes <= claims.scopes:
                    raise TokenError(Reason.INSUFFICIENT_SCOPE, required_scopes=tuple(sorted(needed_scopes)))
                if not needed_roles <= claims.roles:
                    raise TokenError(Reason.INSUFFICIENT_ROLE)
            except TokenError as exc:
                return _error(exc)
            request.state.principal = claims
            return await endpoint(request)

        return guarded

    return wrap
