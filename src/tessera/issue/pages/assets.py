"""The provider's static files: the passkey ceremonies' script, the pages' stylesheet, icon and logo.

Served from the provider's own origin, so the pages' CSP can stay ``script-src 'self'`` and
``style-src 'self'`` with nothing inline; cached for an hour, with ``nosniff`` so each is used
only as what it says it is. A logo file is read once; an SVG one gets a CSP of its own that
runs no script, should anyone open it as a page.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from tessera.issue.look import LOGO_TYPES, logo_is_url
from tessera.issue.web import provider_of

__all__ = ["SCRIPT_CACHE_SECONDS", "icon", "logo", "passkeys_js", "stylesheet"]

SCRIPT_CACHE_SECONDS = 3600
_STATIC_HEADERS = {
    "Cache-Control": f"public, max-age={SCRIPT_CACHE_SECONDS}",
    "X-Content-Type-Options": "nosniff",
}
_IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@cache
def _static(name: str) -> bytes:
    return (Path(__file__).parent / "static" / name).read_bytes()


@cache
def _logo_file(path: str) -> bytes:
    return Path(path).read_bytes()


async def passkeys_js(request: Request) -> Response:
    """GET ``/static/passkeys.js``."""
    return Response(
        _static("passkeys.js"), media_type="text/javascript; charset=utf-8", headers=_STATIC_HEADERS
    )


async def stylesheet(request: Request) -> Response:
    """GET ``/static/tessera.css``: the hosted pages' one stylesheet (light and dark)."""
    return Response(_static("tessera.css"), media_type="text/css; charset=utf-8", headers=_STATIC_HEADERS)


async def icon(request: Request) -> Response:
    """GET ``/static/icon.svg``: the pages' icon when no logo is configured."""
    headers = {**_STATIC_HEADERS, "Content-Security-Policy": _IMAGE_POLICY}
    return Response(_static("icon.svg"), media_type="image/svg+xml", headers=headers)


async def logo(request: Request) -> Response:
    """GET ``/static/logo``: the configured logo file (404 when the logo is a URL, or none is set)."""
    configured = provider_of(request).settings.logo
    if configured is None or logo_is_url(configured):
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    try:
        image = _logo_file(configured)
    except OSError:  # checked at start, removed since
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    media_type = LOGO_TYPES[Path(configured).suffix.lower()]
    headers = {**_STATIC_HEADERS, "Content-Security-Policy": _IMAGE_POLICY}
    return Response(image, media_type=media_type, headers=headers)
