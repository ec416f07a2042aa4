"""The one place that turns a rejection into HTTP (RFC 6750 §3)."""

from __future__ import annotations

import re

from ..encoding import json_dumps
from ..errors import ConfigurationError, TokenError
from .cors import CORS
from .http import HttpResponse

__all__ = ["check_realm", "error_response"]

_QUOTABLE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_DESCRIPTIONS = {
    "": "authentication is required",
    "invalid_token": "the access token is invalid",
    "invalid_request": "the request is malformed",
    "insufficient_scope": "the access token does not grant access to this resource",
}


def check_realm(realm: str) -> str:
    """``realm`` if it can be sent as an RFC 9110 quoted-string without escaping."""
    if not isinstance(realm, str) or not realm or _QUOTABLE.fullmatch(realm) is None:
        raise ConfigurationError("realm must be non-empty printable ASCII without quotes or backslashes")
    return realm


def error_response(
    error: TokenError, *, realm: str, cors: CORS | None = None, origin: str | None = None
) -> HttpResponse:
    """The HTTP answer to ``error``.

    No token: 401 with ``WWW-Authenticate: Bearer realm="..."`` and no error code. A bad token:
    401 ``error="invalid_token"``. A malformed request: 400 ``invalid_request``. A missing scope
    or role: 403 ``insufficient_scope`` with the required ``scope``. The JSON body names only the
    error code and a generic description: which check failed is never revealed. ``origin`` is
    the request's Origin, for the CORS headers when ``cors`` is configured.
    """
    code = error.error
    challenge = f'Bearer realm="{realm}"'
    if code:
        challenge += f', error="{code}"'
    scopes = " ".join(s for s in error.required_scopes if _QUOTABLE.fullmatch(s))
    if code == "insufficient_scope" and scopes:
        challenge += f', scope="{scopes}"'
    body = {"error": code or "unauthorized", "error_description": _DESCRIPTIONS[code]}
    headers: tuple[tuple[str, str], ...] = (
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("WWW-Authenticate", challenge),
    )
    if cors is not None:
        headers += cors.headers_for(origin)
    return HttpResponse(error.status, headers, json_dumps(body))
