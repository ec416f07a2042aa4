"""WSGI middleware on Flask, and the Cloud Functions decorator (Flask test client and real HTTP)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from werkzeug.serving import make_server

from tessera import ConfigurationError
from tessera.protect import CORS, Guard, Principal
from tessera.protect.gcf import authorize
from tessera.protect.wsgi import AuthorizeMiddleware, get_principal

from .support import Api, bearer

API = Api()
TOKEN_CASES = [
    ("good", 200, None),
    ("missing", 401, 'Bearer realm="tessera"'),
    ("expired", 401, 'Bearer realm="tessera", error="invalid_token"'),
    ("wrong_audience", 401, 'Bearer realm="tessera", error="invalid_token"'),
    ("read_only", 403, 'Bearer realm="tessera", error="insufficient_scope", scope="orders:write"'),
]


def auth_headers(kind: str) -> dict[str, str]:
    tokens = {
        "good": API.token,
        "expired": API.expired,
        "wrong_audience": API.wrong_audience,
        "read_only": API.read_only,
    }
    return {"Authorization": bearer(tokens[kind]())} if kind in tokens else {}


def flask_app() -> flask.Flask:
    app = flask.Flask("orders")

    @app.get("/whoami")
    def whoami() -> str:
        return get_principal(flask.request.environ).principal_id

    @app.post("/form")
    def form() -> str:
        return str(flask.request.form["name"])

    guard = Guard(API.verifier, scopes=["orders:write"], cors=CORS(allow_origins=["https://app.example"]))
    app.wsgi_app = AuthorizeMiddleware(app.wsgi_app, guard=guard)  # type: ignore[method-assign]
    return app


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_wsgi_middleware_on_flask(kind: str, status: int, challenge: str | None) -> None:
    response = flask_app().test_client().get("/whoami", headers=auth_headers(kind))

    assert response.status_code == status
    assert response.headers.get("WWW-Authenticate") == challenge
    if status == 200:
        assert response.text == "alice"
    else:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.json is not None and "error" in response.json


def test_ver52_wsgi_form_body_token_is_refused_and_good_form_is_replayed() -> None:
    client = flask_app().test_client()

    twice = client.post("/form", headers=auth_headers("good"), data={"access_token": API.token()})
    fine = client.post("/form", headers=auth_headers("good"), data={"name": "widget"})

    assert twice.status_code == 400
    assert fine.status_code == 200 and fine.text == "widget"


def test_wsgi_cors_on_success_and_error() -> None:
    client = flask_app().test_client()
    origin = {"Origin": "https://app.example"}

    ok = client.get("/whoami", headers={**auth_headers("good"), **origin})
    denied = client.get("/whoami", headers=origin)

    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert denied.headers["Access-Control-Allow-Origin"] == "https://app.example"


def test_wsgi_get_principal_requires_the_middleware() -> None:
    with pytest.raises(ConfigurationError):
        get_principal({})


@authorize(API.verifier, scopes=["orders:write"])
def orders_function(request: flask.Request, principal: Principal) -> dict[str, Any]:
    return {"sub": principal.subject, "size": request.args.get("size")}


@authorize(API.verifier, scopes=["orders:write"])
async def async_orders_function(request: flask.Request, principal: Principal) -> dict[str, Any]:
    return {"sub": principal.subject, "size": request.args.get("size")}


@pytest.mark.parametrize("function", [orders_function, async_orders_function])
@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_gcf_decorator_in_a_flask_request_context(
    kind: str, status: int, challenge: str | None, function: Any
) -> None:
    app = flask.Flask("gcf")
    with app.test_request_context("/?size=large", headers=auth_headers(kind)):
        response = app.make_response(function(flask.request))

    assert response.status_code == status
    assert response.headers.get("WWW-Authenticate") == challenge
    if status == 200:
        assert response.json == {"sub": "alice", "size": "large"}


@pytest.fixture(scope="module")
def functions_framework_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """functions-framework's Flask app for a protected function, served on 127.0.0.1:<free port>."""
    import functions_framework

    source = tmp_path_factory.mktemp("gcf") / "main.py"
    source.write_text(
        "from tests.protect.test_wsgi_and_gcf import orders_function\n"
        "def orders(request):\n"
        "    return orders_function(request)\n"
    )
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target="orders", source=str(source), signature_type="http"
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def fetch(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback test server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_gcf_over_real_http_with_functions_framework(
    functions_framework_server: str, kind: str, status: int, challenge: str | None
) -> None:
    code, headers, body = fetch(f"{functions_framework_server}/?size=large", auth_headers(kind))

    assert code == status
    assert headers.get("WWW-Authenticate") == challenge
    if status == 200:
        assert b'"sub":"alice"' in body.replace(b" ", b"")
