"""JSON POSTs from the provider's own pages: the fetch calls of the passkey ceremonies.

A body is read only when the request is same-origin (``Sec-Fetch-Site`` and an ``Origin`` that
is the issuer's or a passkey origin), ``application/json`` within :data:`MAX_BODY_BYTES`, one
strict JSON object (no duplicate member), and carries in ``csrf`` the form token of the
browser's CSRF cookie (WEB-08). Anything else is a JSON error, never a 500.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.encoding import EncodingError, json_object
from tessera.issue.cookies import form_token_matches
from tessera.issue.provider import Provider
from tessera.issue.web import MAX_BODY_BYTES, BadParameters, json_response

__all__ = ["PageRequest", "json_error", "read_page_json"]


class PageRequest:
    """A checked JSON POST: its body and the browser's CSRF cookie value (the pre-sign-in binding)."""

    def __init__(self, body: dict[str, Any], browser: str) -> None:
        self.body = body
        self.browser = browser

    def text(self, name: str, limit: int = 512) -> str:
        """The string member ``name`` (empty when absent, not a string, or longer than ``limit``)."""
        value = self.body.get(name)
        return value if isinstance(value, str) and len(value) <= limit else ""


def json_error(error: str, description: str, status: int = 400, **extra: str) -> Response:
    """An error body for the page's script: a stable code, a sentence for the user, extras."""
    return json_response({"error": error, "error_description": description, **extra}, status)


def _same_origin(provider: Provider, request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    allowed = {provider.settings.origin, *provider.passkeys.relying_party.origins}
    return request.headers.get("origin") in allowed


async def read_page_json(provider: Provider, request: Request) -> PageRequest | Response:
    """The checked body of a JSON POST from one of our pages, or the JSON error to answer."""
    if not _same_origin(provider, request):
        return json_error("forbidden", "This request came from another site.", 403)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    declared = request.headers.get("content-length", "0")
    if media_type != "application/json":
        return json_error("invalid_request", "The request must be JSON.")
    if not declared.isascii() or not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return json_error("invalid_request", "The request is too large.", 413)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return json_error("invalid_request", "The request is too large.", 413)
    try:
        body = json_object(raw)
        browser = provider.cookies.read(request, provider.cookies.csrf_name)
    except (EncodingError, BadParameters):
        return json_error("invalid_request", "The request could not be read.")
    submitted = body.get("csrf")
    if (
        browser is None
        or not isinstance(submitted, str)
        or not form_token_matches(provider.cookies.csrf_token(browser), submitted)
    ):
        return json_error("forbidden", "The page expired. Reload it and try again.", 403)
    return PageRequest(body, browser)
