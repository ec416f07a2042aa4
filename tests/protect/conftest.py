"""What the framework adapter tests share: one API, the five token cases, a WSGI server on 127.0.0.1.

The ASGI, WSGI (Flask, Django), Cloud Functions and Azure Functions tests all protect the same
``orders:write`` endpoint and send the same five tokens; the expected status and challenge of
each case are written once here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from .support import Api, bearer

API = Api()

# token case -> (status, WWW-Authenticate or None); the protected endpoints require orders:write.
TOKEN_CASES = [
    ("good", 200, None),
    ("missing", 401, 'Bearer realm="tessera"'),
    ("expired", 401, 'Bearer realm="tessera", error="invalid_token"'),
    ("wrong_audience", 401, 'Bearer realm="tessera", error="invalid_token"'),
    ("read_only", 403, 'Bearer realm="tessera", error="insufficient_scope", scope="orders:write"'),
]

# token case -> the "error" member of the JSON body of the rejection
ERROR_CODES = {
    "missing": "unauthorized",
    "expired": "invalid_token",
    "wrong_audience": "invalid_token",
    "read_only": "insufficient_scope",
}

_TOKENS: dict[str, Callable[[], str]] = {
    "good": API.token,
    "expired": API.expired,
    "wrong_audience": API.wrong_audience,
    "read_only": API.read_only,
}


def auth_headers(kind: str) -> dict[str, str]:
    """The Authorization header of the token case ``kind`` (none for ``missing``)."""
    return {"Authorization": bearer(_TOKENS[kind]())} if kind in _TOKENS else {}


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


@contextmanager
def serving_wsgi(app: WSGIApp) -> Iterator[str]:
    """Serve ``app`` with werkzeug on 127.0.0.1:<free port>; yields its base URL, stops after."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


ServeWSGI = Callable[[WSGIApp], str]


@pytest.fixture(scope="module")
def serve_wsgi() -> Iterator[ServeWSGI]:
    """Serve WSGI apps over real HTTP on 127.0.0.1 for one test module; all stop after it."""
    with ExitStack() as servers:
        yield lambda app: servers.enter_context(serving_wsgi(app))
