"""The provider as one ASGI app built on its first request, for hosts that import it at start.

Azure Functions (``func.AsgiFunctionApp``) and Cloud Run / Cloud Functions (``functions-framework
--asgi``) import their entry module before any request, often before the platform has finished
wiring the app's settings. :func:`provider_app` returns at once; the provider is built from the
environment (:mod:`tessera.issue.hosting.environment`) by the first HTTP request and kept while the
instance lives. Lifespan messages are answered without building it: the mail sender starts with
the first mail the instance queues.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "provider_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def provider_app(environ: Mapping[str, str] | None = None) -> ASGIApp:
    """An ASGI app serving the provider built from ``environ`` (``os.environ``) on first use."""
    built: list[ASGIApp] = []
    lock = threading.Lock()

    def build() -> ASGIApp:
        with lock:
            if not built:
                from tessera.issue.app import create_app
                from tessera.issue.hosting.environment import provider_from_environment

                provider = provider_from_environment(environ)
                built.append(create_app(provider, demo=provider.settings.dev_mode))
            return built[0]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        inner = built[0] if built else await asyncio.to_thread(build)
        await inner(scope, receive, send)

    return app


async def forward(app: ASGIApp, request: Any) -> Any:
    """``app``'s answer to a Starlette ``request`` (functions-framework ``--asgi``), as a Response.

    The request's own scope and body stream go to ``app`` unchanged; every response header
    (each ``Set-Cookie`` included) comes back as ``app`` sent it.
    """
    from starlette.responses import Response

    started: dict[str, Any] = {}
    body: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            body.append(bytes(message.get("body", b"")))

    await app(request.scope, request.receive, send)
    response = Response(b"".join(body), status_code=int(started.get("status", 500)))
    response.raw_headers = [(bytes(k), bytes(v)) for k, v in started.get("headers", [])]
    return response
