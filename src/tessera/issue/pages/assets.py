"""The provider's static script: the passkey ceremonies' few lines of browser JavaScript.

Served from the provider's own origin, so the pages' CSP can stay ``script-src 'self'`` with no
inline script; cached for an hour, with ``nosniff`` so it runs only as the script it says it is.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["SCRIPT_CACHE_SECONDS", "passkeys_js"]

SCRIPT_CACHE_SECONDS = 3600


@cache
def _script(name: str) -> bytes:
    return (Path(__file__).parent / "static" / name).read_bytes()


async def passkeys_js(request: Request) -> Response:
    """GET ``/static/passkeys.js``."""
    return Response(
        _script("passkeys.js"),
        media_type="text/javascript; charset=utf-8",
        headers={
            "Cache-Control": f"public, max-age={SCRIPT_CACHE_SECONDS}",
            "X-Content-Type-Options": "nosniff",
        },
    )
