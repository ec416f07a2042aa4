"""A tiny HTTP server on 127.0.0.1 with programmable routes and a request counter."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

__all__ = ["LocalHTTPServer", "Response"]


class Response(NamedTuple):
    """A canned response; ``delay_seconds`` makes the server slow on purpose."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = {}
    delay_seconds: float = 0.0

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response."""
        return cls(
            status, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})}
        )


Route = Response | Callable[[], Response]


class LocalHTTPServer:
    """Serves GET routes on 127.0.0.1:<free port>; counts every request by path.

    ``targets`` keeps every request target in order, query included (a test's OAuth callback
    reads the authorization response from it).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: Counter[str] = Counter()
        self.targets: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests[path] += 1
                    server.targets.append(self.path)
                    route = server.routes.get(path)
                response = route() if callable(route) else route
                if response is None:
                    response = Response(404, b"not found")
                if response.delay_seconds:
                    time.sleep(response.delay_seconds)
                try:
                    self.send_response(response.status)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def count(self, path: str) -> int:
        """How many requests ``path`` received."""
        with self._lock:
            return self.requests[path]

    def total(self) -> int:
        """How many requests the server received in all."""
        with self._lock:
            return sum(self.requests.values())

    def start(self) -> LocalHTTPServer:
        """Start serving in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
