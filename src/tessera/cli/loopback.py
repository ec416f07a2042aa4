"""The loopback redirect of a native app (RFC 8252 §7.3): one ``/callback`` on 127.0.0.1."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["LoopbackReceiver"]

_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Tessera login</title>"
    b"<p>Signed in: you can close this window and return to the terminal.</p>"
)


class _Server(HTTPServer):
    received: dict[str, str] | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/callback" or self.server.received is not None:
            self.send_error(404)
            return
        self.server.received = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(_DONE_PAGE)))
        self.end_headers()
        self.wfile.write(_DONE_PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the query holds the authorization code."""


class LoopbackReceiver:
    """Listens on a free 127.0.0.1 port; :meth:`wait` returns the first ``/callback`` query."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    def wait(self, timeout_seconds: float) -> dict[str, str] | None:
        """The callback's query parameters, or None when none came within ``timeout_seconds``."""
        deadline = time.monotonic() + timeout_seconds
        while self._server.received is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._server.timeout = min(left, 1.0)
            try:
                self._server.handle_request()
            except OSError:
                continue
        return self._server.received

    def close(self) -> None:
        """Stop listening."""
        self._server.server_close()
