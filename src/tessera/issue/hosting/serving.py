"""Serving the provider under uvicorn with bounded reads (slow-request denial of service).

uvicorn closes a keep-alive connection left idle, but it gives a client as long as it likes to
send a request's headers and body: one header line a second holds a connection (and its memory)
forever, and a few thousand such clients exhaust a server. :class:`BoundedHttpProtocol` is
uvicorn's httptools protocol with two deadlines: the headers of a request must be complete
within ``header_timeout_seconds`` of its first byte (or of the connection opening), and its body
within ``body_timeout_seconds`` of the headers; a connection that misses one is closed.

From Python::

    uvicorn.run(app, host=..., port=..., **uvicorn_options())

From the command line (``--http`` takes an import string)::

    uvicorn --http tessera.issue.hosting.serving:BoundedHttpProtocol --timeout-keep-alive 5 \\
        --no-proxy-headers --no-server-header --factory myapp:create
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "BODY_TIMEOUT_SECONDS",
    "HEADER_TIMEOUT_SECONDS",
    "KEEP_ALIVE_SECONDS",
    "BoundedHttpProtocol",
    "bounded_protocol",
    "uvicorn_options",
]

HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose request is read too slowly.

    One timer per connection: armed when the connection opens and when the first byte after a
    complete request arrives (headers deadline), re-armed when its headers are complete (body deadline), and
    cancelled once the request is read. An idle keep-alive connection is uvicorn's own
    ``timeout_keep_alive``; a WebSocket upgrade leaves the timer cancelled.
    """

    header_timeout_seconds: float = HEADER_TIMEOUT_SECONDS
    body_timeout_seconds: float = BODY_TIMEOUT_SECONDS
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the headers deadline of the first request."""
        super().connection_made(transport)
        self._arm(self.header_timeout_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Bytes with no deadline running start the next request: its headers deadline starts."""
        if self._read_deadline is None:
            self._arm(self.header_timeout_seconds)
        super().data_received(data)

    def on_headers_complete(self) -> None:
        """Headers read in time: the body deadline starts, unless the connection is upgraded."""
        self._disarm()
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(self.body_timeout_seconds)

    def on_message_complete(self) -> None:
        """The whole request is read: no deadline until the next one begins."""
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(*, header_seconds: float, body_seconds: float) -> type[BoundedHttpProtocol]:
    """A :class:`BoundedHttpProtocol` with other deadlines (for one process: not picklable)."""
    if not (0 < header_seconds <= 300 and 0 < body_seconds <= 3600):
        raise ValueError("header_seconds must be in (0, 300] and body_seconds in (0, 3600]")
    attributes = {"header_timeout_seconds": header_seconds, "body_timeout_seconds": body_seconds}
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), attributes)


def uvicorn_options(
    protocol: type[BoundedHttpProtocol] = BoundedHttpProtocol, *, keep_alive_seconds: int = KEEP_ALIVE_SECONDS
) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` serving the provider directly.

    Bounded request reads, idle keep-alive closed after ``keep_alive_seconds``, no ``Server``
    header, and ``X-Forwarded-For`` left to the provider's ``trusted_proxies`` (uvicorn's
    ``proxy_headers`` would trust it from any loopback peer).
    """
    return {
        "http": protocol,
        "timeout_keep_alive": keep_alive_seconds,
        "proxy_headers": False,
        "server_header": False,
    }
