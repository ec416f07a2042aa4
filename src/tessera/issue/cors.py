"""Cross-origin and transport headers: CORS per endpoint (WEB-14) and HSTS (WEB-16).

CORS: what a browser app may call, and from where.

Discovery and JWKS are open to every origin (their responses set ``*`` themselves). The token,
userinfo and revocation endpoints answer only origins on the allow-list (exact match; in dev
mode also any ``http`` loopback origin, where ``dev-spa`` runs), never with credentials. Every
other route, ``/authorize`` included, has no CORS at all (AS-32).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["EndpointCORS", "StrictTransport"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

_LOOPBACK_ORIGIN = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\]):[1-9][0-9]{0,4}", re.ASCII)
_METHODS = {"/token": "POST", "/userinfo": "GET, POST", "/revoke": "POST"}
_ALLOWED_HEADERS = frozenset({"authorization", "content-type"})
MAX_AGE_SECONDS = "600"


class EndpointCORS:
    """ASGI middleware: CORS on the token, userinfo and revocation endpoints only."""

    def __init__(
        self, app: ASGIApp, *, base_path: str, origins: frozenset[str], allow_loopback: bool
    ) -> None:
        self.app = app
        self.methods = {base_path + path: methods for path, methods in _METHODS.items()}
        self.origins = origins
        self.allow_loopback = allow_loopback

    def allowed(self, origin: str) -> bool:
        """True when ``origin`` may call the CORS-enabled endpoints."""
        return origin in self.origins or (
            self.allow_loopback and _LOOPBACK_ORIGIN.fullmatch(origin) is not None
        )

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        methods = self.methods.get(scope.get("path", "")) if scope["type"] == "http" else None
        origins = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"origin"]
        if methods is None or len(origins) != 1 or not self.allowed(origins[0]):
            await self.app(scope, receive, send)
            return
        origin = origins[0]
        cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, send, cors, methods)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self,
        scope: Scope,
        send: Callable[[Message], Awaitable[None]],
        cors: list[tuple[bytes, bytes]],
        methods: str,
    ) -> None:
        headers = dict((k, v.decode("latin-1")) for k, v in scope.get("headers", []))
        method = headers.get(b"access-control-request-method", "")
        wanted = {
            h.strip().lower()
            for h in headers.get(b"access-control-request-headers", "").split(",")
            if h.strip()
        }
        if method not in [m.strip() for m in methods.split(",")] or not wanted <= _ALLOWED_HEADERS:
            await send({"type": "http.response.start", "status": 403, "headers": [(b"vary", b"Origin")]})
            await send({"type": "http.response.body", "body": b""})
            return
        allow = [
            *cors,
            (b"access-control-allow-methods", methods.encode()),
            (b"access-control-allow-headers", b"authorization, content-type"),
            (b"access-control-max-age", MAX_AGE_SECONDS.encode()),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": allow})
        await send({"type": "http.response.body", "body": b""})


class StrictTransport:
    """ASGI middleware: ``Strict-Transport-Security`` on every response of an https issuer (WEB-16)."""

    def __init__(self, app: ASGIApp, *, max_age_seconds: int = 31_536_000) -> None:
        self.app = app
        self.header = (b"strict-transport-security", f"max-age={max_age_seconds}".encode())

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_hsts)
