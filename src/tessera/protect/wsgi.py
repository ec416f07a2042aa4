"""WSGI: a middleware for Flask, Django or any WSGI app (also behind Mangum-style Lambda bridges).

The principal travels in a copy of the environ under ``"tessera.principal"``; read it with the
typed :func:`get_principal`::

    app.wsgi_app = AuthorizeMiddleware(app.wsgi_app, guard=Guard(verifier, scopes=["orders:read"]))

    @app.get("/orders")
    def orders():
        principal = get_principal(flask.request.environ)
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import ConfigurationError
from .guard import Guard
from .http import Headers, HttpRequest, HttpResponse, parse_query
from .principal import Principal

__all__ = ["PRINCIPAL_KEY", "AuthorizeMiddleware", "get_principal", "request_from_environ"]

PRINCIPAL_KEY = "tessera.principal"
DEFAULT_MAX_FORM_BYTES = 1 << 20
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_SPECIAL_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def request_from_environ(environ: Mapping[str, Any], body: bytes = b"") -> HttpRequest:
    """The :class:`HttpRequest` of a WSGI ``environ``.

    A WSGI server folds repeated headers into one comma-joined value, so two Authorization
    headers arrive as one value with a comma, which is not a valid token (401).
    """
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower(), str(value)))
        elif key in _SPECIAL_HEADERS and value:
            headers.append((_SPECIAL_HEADERS[key], str(value)))
    query = parse_query(str(environ.get("QUERY_STRING", "")))
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "/"))
    return HttpRequest(str(environ.get("REQUEST_METHOD", "GET")), path, Headers(headers), query, body)


def _status_line(status: int) -> str:
    from http import HTTPStatus

    return f"{status} {HTTPStatus(status).phrase}"


class AuthorizeMiddleware:
    """Protect every request of a WSGI app with ``guard``; rejections never reach the app."""

    def __init__(self, app: WSGIApp, *, guard: Guard, max_form_bytes: int = DEFAULT_MAX_FORM_BYTES) -> None:
        if not isinstance(guard, Guard):
            raise ConfigurationError("guard must be a tessera.protect.Guard")
        self.app = app
        self.guard = guard
        self.max_form_bytes = max_form_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = request_from_environ(environ)
        if request.body_is_form and request.method.upper() not in ("GET", "HEAD"):
            body = self._read_form(environ)
            if body is None:
                return self._send(HttpResponse(413, (("Cache-Control", "no-store"),)), start_response)
            environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
            request = request_from_environ(environ, body)
        outcome = self.guard.admit(request)
        if isinstance(outcome, HttpResponse):
            return self._send(outcome, start_response)
        cors = list(self.guard.cors_headers(request))

        def start_with_cors(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            return start_response(status, [*headers, *cors], *exc_info)

        return self.app({**environ, PRINCIPAL_KEY: outcome}, start_with_cors if cors else start_response)

    def _read_form(self, environ: Mapping[str, Any]) -> bytes | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 <= length <= self.max_form_bytes:
            return None
        stream = environ.get("wsgi.input")
        data: bytes = stream.read(length) if stream is not None and length else b""
        return data

    @staticmethod
    def _send(response: HttpResponse, start_response: StartResponse) -> Iterable[bytes]:
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(_status_line(response.status), headers)
        return [response.body]


def get_principal(environ: Mapping[str, Any]) -> Principal:
    """The principal of a request behind :class:`AuthorizeMiddleware`."""
    principal = environ.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise ConfigurationError("no principal: the app is not behind AuthorizeMiddleware")
    return principal
