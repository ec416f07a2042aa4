"""WSGI middleware on Flask, and the Cloud Functions decorator (Flask test client and real HTTP)."""

from __future__ import annotations

from typing import Any

import flask
import pytest

from tessera import ConfigurationError
from tessera.protect import CORS, Guard, Principal
from tessera.protect.gcf import authorize
from tessera.protect.wsgi import AuthorizeMiddleware, get_principal

from ..gateway.http_client import send
from .conftest import API, ERROR_CODES, TOKEN_CASES, ServeWSGI, auth_headers


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
        assert response.json is not None and response.json["error"] == ERROR_CODES[kind]


def test_ver52_wsgi_form_body_token_is_refused_and_good_form_is_replayed() -> None:
    client = flask_app().test_client()

    twice = client.post("/form", headers=auth_headers("good"), data={"access_token": API.token()})
    fine = client.post("/form", headers=auth_headers("good"), data={"name": "widget"})

    assert twice.status_code == 400
    assert fine.status_code == 200 and fine.text == "widget"


def test_ver52_wsgi_query_token_next_to_the_header_is_invalid_request() -> None:
    token = API.token()
    client = flask_app().test_client()

    both = client.get("/whoami", query_string={"access_token": token}, headers=auth_headers("good"))
    query_only = client.get("/whoami", query_string={"access_token": token})
    fine = client.get("/whoami", query_string={"page": "2"}, headers=auth_headers("good"))

    assert both.status_code == 400
    assert both.json is not None and both.json["error"] == "invalid_request"
    assert query_only.status_code == 401
    assert fine.status_code == 200 and fine.text == "alice"


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
def functions_framework_server(tmp_path_factory: pytest.TempPathFactory, serve_wsgi: ServeWSGI) -> str:
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
    return serve_wsgi(app)


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_gcf_over_real_http_with_functions_framework(
    functions_framework_server: str, kind: str, status: int, challenge: str | None
) -> None:
    reply = send("GET", f"{functions_framework_server}/?size=large", headers=auth_headers(kind))

    assert reply.status == status
    assert reply.header("WWW-Authenticate") == challenge
    if status == 200:
        assert reply.json() == {"sub": "alice", "size": "large"}


def test_ver52_gcf_refuses_a_query_or_form_token_next_to_the_header() -> None:
    token = API.token()
    app = flask.Flask("gcf")
    form = {"Content-Type": "application/x-www-form-urlencoded", **auth_headers("good")}
    with app.test_request_context(f"/?access_token={token}", headers=auth_headers("good")):
        in_query = app.make_response(orders_function(flask.request))
    with app.test_request_context("/", method="POST", headers=form, data=f"access_token={token}"):
        in_form = app.make_response(orders_function(flask.request))
    with app.test_request_context("/?size=large", method="POST", headers=form, data="name=widget"):
        genuine = app.make_response(orders_function(flask.request))

    assert (in_query.status_code, in_form.status_code) == (400, 400)
    assert in_query.json is not None and in_query.json["error"] == "invalid_request"
    assert genuine.status_code == 200 and genuine.json == {"sub": "alice", "size": "large"}
