"""Finding the one bearer token in a request (RFC 6750 §2), or saying why there is none.

Accepted: exactly one ``Authorization`` header whose scheme is ``Bearer`` in any case,
followed by one or more spaces and exactly one token68; or, when configured, exactly one named
cookie. Never the query string. A request that uses two methods at once (header and
``?access_token=``, header and form body, header and cookie) is ambiguous: 400.
"""

from __future__ import annotations

import functools
import re

from ..errors import Reason, TokenError
from .http import HttpRequest

__all__ = ["is_token68", "parse_authorization", "token_from_request"]

_TOKEN68_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
_SCHEME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUERY_PARAMETER = "access_token"
_REMEMBERED_VALUES = 256


def is_token68(value: str) -> bool:
    """Whether ``value`` is one RFC 7235 token68: ``[A-Za-z0-9-._~+/]+`` then any ``=`` padding."""
    if not value.isascii():
        return False
    characters = value.rstrip("=").encode("ascii")
    return bool(characters) and not characters.translate(None, _TOKEN68_CHARACTERS)


@functools.lru_cache(maxsize=_REMEMBERED_VALUES)
def parse_authorization(value: str) -> str | None:
    """The token in one ``Authorization`` header value; None when the scheme is not Bearer.

    A value that is not ``scheme [SP credentials]`` at all is a malformed request (400); a
    Bearer header without exactly one well-formed token is an invalid token (401). Answers are
    remembered for the last 256 values (refusals are not): a warm function sees the same
    callers' headers again, and the token68 check reads every character. The token returned
    for a remembered value is the same string object each time, so its hash, which the
    verifier's token cache needs, is computed once.
    """
    if not value.isascii():
        raise TokenError(Reason.INVALID_REQUEST)
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() != "bearer":
        if _SCHEME.fullmatch(scheme) is None:
            raise TokenError(Reason.INVALID_REQUEST)
        return None
    token = credentials.lstrip(" ")
    characters = token.rstrip("=").encode("ascii")  # is_token68, inlined on the hot path
    if not characters or characters.translate(None, _TOKEN68_CHARACTERS):
        raise TokenError(Reason.MALFORMED)
    return token


def _sent_elsewhere(request: HttpRequest) -> bool:
    if _QUERY_PARAMETER in request.query:
        return True
    if request.method.upper() not in ("GET", "HEAD") and request.body_is_form:
        try:
            return _QUERY_PARAMETER in request.form()
        except ValueError:
            raise TokenError(Reason.INVALID_REQUEST) from None
    return False


def token_from_request(request: HttpRequest, cookie: str | None = None, header: str | None = None) -> str:
    """The single bearer token of ``request``; raise :class:`TokenError` otherwise.

    ``cookie`` names a cookie that may carry the token instead of the header; ``header`` names
    a front-door header whose whole value is the token (the Authorization header is then not
    read at all).
    """
    if header is not None:
        values = request.headers.get_all(header)
        if len(values) > 1:
            raise TokenError(Reason.INVALID_REQUEST)
        if not values:
            raise TokenError(Reason.MISSING_TOKEN)
        return values[0]
    authorizations = request.headers.get_all("authorization")
    if len(authorizations) > 1:
        raise TokenError(Reason.INVALID_REQUEST)
    token = parse_authorization(authorizations[0]) if authorizations else None
    cookie_token: str | None = None
    if cookie is not None:
        found = request.cookies.get_all(cookie)
        if len(found) > 1:
            raise TokenError(Reason.INVALID_REQUEST)
        cookie_token = found[0] if found else None
    presented = token is not None or cookie_token is not None
    if _sent_elsewhere(request) and presented:
        raise TokenError(Reason.INVALID_REQUEST)
    if token is not None and cookie_token is not None:
        raise TokenError(Reason.INVALID_REQUEST)
    if token is not None:
        return token
    if cookie_token is not None:
        if not is_token68(cookie_token):
            raise TokenError(Reason.MALFORMED)
        return cookie_token
    raise TokenError(Reason.MISSING_TOKEN)
