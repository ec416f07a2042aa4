"""The local gateway: real HTTP on 127.0.0.1 in, API Gateway events to Lambda handlers, HTTP out."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..protect.audit_log import log_rejection
from .authorizers import AuthorizerRunner
from .config import GatewayConfig
from .events import EventContext, build_event
from .gateway_responses import customise
from .invoke import InProcessInvoker, Invoker
from .request import IncomingRequest
from .responses import BAD_GATEWAY, GatewayResponse, gateway_error, proxy_response

__all__ = ["CACHE_HEADER", "Gateway", "GatewayServer"]

log = logging.getLogger("tessera.gateway")

CACHE_HEADER = "X-Tessera-Authorizer-Cache"
MAX_BODY_BYTES = 10 * 1024 * 1024
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class Gateway:
    """Routes a request, runs its authorizer (with API Gateway's cache), then its handler.

    ``invoker`` runs handlers (default: in this process); ``clock`` drives the authorizer
    cache and the event times, so tests move time without sleeping.
    """

    def __init__(
        self,
        config: GatewayConfig,
        *,
        invoker: Invoker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.invoker = invoker if invoker is not None else InProcessInvoker(config.base_dir)
        self.authorizers = AuthorizerRunner(self.invoker, clock)
        self._clock = clock

    def handle(self, request: IncomingRequest) -> GatewayResponse:
        """Answer one request; never raises (an internal failure is a 500)."""
        request_id = str(uuid.uuid4())
        try:
            response, cache = self._dispatch(request, request_id)
        except Exception:
            log.exception("gateway failure on %s %s", request.method, request.path)
            response, cache = gateway_error(500, "Internal server error"), None
        extra = [("x-amzn-RequestId", request_id)]
        if cache is not None:
            extra.append((CACHE_HEADER, cache))
        return GatewayResponse(response.status, [*response.headers, *extra], response.body)

    def _dispatch(self, request: IncomingRequest, request_id: str) -> tuple[GatewayResponse, str | None]:
        found = self.config.match(request.method, request.path)
        if found is None:
            return gateway_error(404, "Not Found"), None
        route, params = found
        ctx = EventContext(self.config.api, request_id, self._clock())
        outcome = self.authorizers.authorize(request, route, params, ctx)
        cache = None if route.authorizer is None else ("hit" if outcome.cache_hit else "miss")
        if outcome.response is not None:
            response = outcome.response
            reason = (response.kind or "refused").lower()
            log_rejection(
                "tessera.gateway", reason, method=request.method, route=request.path, status=response.status
            )
            if route.payload_version == "1.0":
                response = customise(response, self.config.responses, request, outcome.authorizer_context)
            return response, cache
        event = build_event(request, route, params, ctx, outcome.authorizer_context)
        result = self.invoker.invoke(route.handler, event)
        if result.failed:
            log.warning("handler %s failed: %s", route.handler, result.error_type)
            return BAD_GATEWAY, cache
        return proxy_response(result.payload, route.payload_version), cache

    def close(self) -> None:
        """Stop whatever the invoker started (runtime client processes)."""
        self.invoker.close()


class GatewayServer:
    """Serves a :class:`Gateway` over HTTP/1.1 on ``host:port`` (port 0: a free one)."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self.gateway = gateway
        self._httpd = ThreadingHTTPServer((host, port), _handler_class(gateway))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the listening socket."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop`."""
        self._httpd.serve_forever()

    def start(self) -> GatewayServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and the gateway's runtime processes."""
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()
        self.gateway.close()

    def __enter__(self) -> GatewayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_class(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length_header = self.headers.get("Content-Length", "0")
            if self.headers.get("Transfer-Encoding") or not length_header.isdigit():
                self._send(gateway_error(411, "Length Required"), close=True)
                return
            length = int(length_header)
            if length > MAX_BODY_BYTES:
                self._send(gateway_error(413, "Request Entity Too Large"), close=True)
                return
            body = self.rfile.read(length) if length else b""
            request = IncomingRequest(
                method=self.command,
                target=self.path,
                headers=tuple((k, v) for k, v in self.headers.items()),
                body=body,
                source_ip=str(self.client_address[0]),
                protocol=self.request_version,
            )
            self._send(gateway.handle(request))

        def _send(self, response: GatewayResponse, *, close: bool = False) -> None:
            try:
                self.send_response(response.status)
                for name, value in response.headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve  # noqa: N815

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # The path only: a query string may carry a token (?access_token=...), never logged.
            log.info("%s %s %s", self.command, self.path.split("?", 1)[0], code)

        def log_error(self, format: str, *args: Any) -> None:
            # http.server's message can quote the raw request line, whose query may hold a token.
            log.info("request refused: %s", args[0] if args else format)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s", format % args)

    return Handler
