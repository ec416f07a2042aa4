"""The ``Host`` check: answer only requests addressed to the provider's own name (DNS rebinding).

A page on another site can point its own domain at 127.0.0.1 and then read the dev server as if
it were same-origin; the one thing it cannot change is the ``Host`` header its browser sends,
which names the attacker's domain. Refusing every ``Host`` that is not the issuer's (and, for a
loopback issuer, its loopback aliases at the same port) closes that door.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HostCheck", "allowed_hosts"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_REFUSAL_HEADERS = [
    (b"content-length", b"0"),
    (b"cache-control", b"no-store"),
    (b"connection", b"close"),
]


def _with_port(host: str, port: int, default_port: int) -> set[str]:
    names = {f"{host}:{port}"}
    if port == default_port:
        names.add(host)
    return names


def allowed_hosts(issuer: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Every ``Host`` value (lower case) that names ``issuer``, plus ``extra`` names as given.

    The issuer's host with its port (and without it, when the port is the scheme's default).
    For a loopback issuer, 127.0.0.1, localhost and [::1] at the same port are the same server.
    An ``extra`` entry without a port stands for that host on the issuer's port.
    """
    parts = urlsplit(issuer)
    default_port = _DEFAULT_PORTS[parts.scheme]
    port = parts.port or default_port
    hostname = (parts.hostname or "").lower()
    host = f"[{hostname}]" if ":" in hostname else hostname
    names = _with_port(host, port, default_port)
    if host in _LOOPBACK_NAMES:
        for alias in _LOOPBACK_NAMES:
            names |= _with_port(alias, port, default_port)
    for entry in extra:
        name = entry.strip().lower()
        if name.endswith("]") or ":" not in name:
            names |= _with_port(name, port, default_port)
        else:
            names.add(name)
    return frozenset(names)


class HostCheck:
    """ASGI middleware: HTTP and WebSocket requests whose one ``Host`` is not allowed get 400.

    The refusal has no body: nothing the app would have said reaches a rebinding page. A request
    with no ``Host`` or with two is refused too.
    """

    def __init__(self, app: ASGIApp, *, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name == b"host"]
        if len(values) == 1 and values[0].decode("latin-1").lower() in self.hosts:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": 400, "headers": _REFUSAL_HEADERS})
        await send({"type": "http.response.body", "body": b""})
