"""OpenID discovery: find an issuer's ``jwks_uri`` in its published configuration.

Only the configured issuer is ever discovered (never one named by a token), and the
document's ``issuer`` must equal it exactly (OpenID Connect Discovery §4.3).
"""

from __future__ import annotations

from typing import Any

from ..encoding import EncodingError, json_object
from .fetch import Fetcher, FetchError, FetchFailure, check_url

__all__ = ["discover_jwks_uri", "discovery_url", "fetch_json", "max_age"]


def discovery_url(issuer: str) -> str:
    """Where ``issuer`` publishes its OpenID configuration."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def fetch_json(
    fetcher: Fetcher, url: str, *, timeout_seconds: float, max_bytes: int
) -> tuple[Any, float | None]:
    """GET a JSON object; return it and the response's ``Cache-Control`` max-age (None if absent).

    Raises :class:`FetchError` for a refused URL, a transport failure, a status other than
    200, a body over ``max_bytes`` or a body that is not a strict JSON object.
    """
    check_url(url)
    result = fetcher.fetch(url, timeout_seconds=timeout_seconds, max_bytes=max_bytes)
    if 300 <= result.status < 400:
        raise FetchError(FetchFailure.REDIRECT, url, f"status {result.status}")
    if result.status != 200:
        raise FetchError(FetchFailure.HTTP_STATUS, url, f"status {result.status}")
    if len(result.body) > max_bytes:
        raise FetchError(FetchFailure.TOO_LARGE, url)
    try:
        document = json_object(result.body)
    except EncodingError:
        raise FetchError(FetchFailure.BAD_DOCUMENT, url, "not a JSON object") from None
    return document, max_age(result.headers.get("cache-control", ""))


def max_age(cache_control: str) -> float | None:
    """The ``max-age`` of a ``Cache-Control`` value; 0 for ``no-store``/``no-cache``; else None."""
    found: float | None = None
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0.0
        value = value.strip().strip('"')
        if name == "max-age" and value.isascii() and value.isdigit() and found is None:
            found = float(value)
    return found


def discover_jwks_uri(issuer: str, fetcher: Fetcher, *, timeout_seconds: float, max_bytes: int) -> str:
    """Fetch ``issuer``'s OpenID configuration and return its checked ``jwks_uri``."""
    url = discovery_url(issuer)
    document, _ = fetch_json(fetcher, url, timeout_seconds=timeout_seconds, max_bytes=max_bytes)
    if document.get("issuer") != issuer:
        raise FetchError(FetchFailure.BAD_DOCUMENT, url, "its issuer is not the configured issuer")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise FetchError(FetchFailure.BAD_DOCUMENT, url, "it has no jwks_uri")
    return check_url(jwks_uri)
