"""ASGI: the middleware on a Starlette app and the endpoint decorator on Starlette and FastAPI."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from tessera import ConfigurationError
from tessera.protect import CORS, Guard, Principal
from tessera.protect.asgi import AuthorizeMiddleware, authorize, get_principal

from .conftest import API, ERROR_CODES, TOKEN_CASES, auth_headers


async def whoami(request: Request) -> Response:
    return PlainTextResponse(get_principal(request).principal_id)


async def echo_form(request: Request) -> Response:
    form = parse_qs((await request.body()).decode())
    return PlainTextResponse(form["name"][0])


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(get_principal(websocket).principal_id)
    await websocket.close()


def middleware_app() -> Any:
    app = Starlette(
        routes=[
            Route("/whoami", whoami),
            Route("/form", echo_form, methods=["POST"]),
            WebSocketRoute("/ws", socket),
        ]
    )
    guard = Guard(API.verifier, scopes=["orders:write"], cors=CORS(allow_origins=["https://app.example"]))
    return AuthorizeMiddleware(app, guard=guard)


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_middleware_statuses_and_challenges(kind: str, status: int, challenge: str | None) -> None:
    with TestClient(middleware_app()) as client:
        response = client.get("/whoami", headers=auth_headers(kind))

    assert response.status_code == status
    assert response.headers.get("www-authenticate") == challenge
    if status == 200:
        assert response.text == "alice"
    else:
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["error"] == ERROR_CODES[kind]


@pytest.mark.parametrize("kind", ["missing", "forged", "expired"])
def test_middleware_refuses_websocket_handshakes_without_a_good_token(kind: str) -> None:
    with TestClient(middleware_app()) as client, pytest.raises(WebSocketDenialResponse) as refused:
        client.websocket_connect("/ws", headers=auth_headers(kind)).__enter__()

    assert refused.value.status_code == 401
    assert refused.value.headers["www-authenticate"].startswith('Bearer realm="tessera"')


def test_middleware_admits_a_websocket_handshake_with_a_good_token() -> None:
    with (
        TestClient(middleware_app()) as client,
        client.websocket_connect("/ws", headers=auth_headers("good")) as ws,
    ):
        assert ws.receive_text() == "alice"


async def test_websocket_refusal_without_the_http_response_extension_is_a_close_before_accept() -> None:
    sent: list[dict[str, Any]] = []
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = AuthorizeMiddleware(app, guard=Guard(API.verifier))
    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    await middleware(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}] and reached == []

    good = [(b"authorization", f"Bearer {API.token()}".encode())]
    await middleware({**scope, "headers": good}, receive, send)
    assert reached == ["/ws"] and len(sent) == 1


def test_ver52_middleware_rejects_token_in_header_and_form_body_and_replays_good_bodies() -> None:
    token = API.token()
    with TestClient(middleware_app()) as client:
        twice = client.post("/form", headers=auth_headers("good"), data={"access_token": token})
        fine = client.post("/form", headers=auth_headers("good"), data={"name": "widget"})

    assert twice.status_code == 400
    assert twice.json()["error"] == "invalid_request"
    assert fine.status_code == 200 and fine.text == "widget"


def test_ver52_middleware_refuses_a_query_token_or_two_authorization_headers() -> None:
    token = API.token()
    good = auth_headers("good")["Authorization"]
    with TestClient(middleware_app()) as client:
        both = client.get("/whoami", params={"access_token": token}, headers={"Authorization": good})
        query_only = client.get("/whoami", params={"access_token": token})
        twice = client.get("/whoami", headers=[("Authorization", good), ("Authorization", good)])
        fine = client.get("/whoami", params={"page": "2"}, headers={"Authorization": good})

    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")
    assert query_only.status_code == 401
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")
    assert fine.status_code == 200 and fine.text == "alice"


def test_middleware_adds_cors_headers_to_success_and_errors() -> None:
    origin = {"Origin": "https://app.example"}
    with TestClient(middleware_app()) as client:
        ok = client.get("/whoami", headers={**auth_headers("good"), **origin})
        denied = client.get("/whoami", headers=origin)

    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == "https://app.example"


def test_get_principal_outside_the_middleware_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        get_principal({"type": "http"})


@authorize(API.verifier, scopes=["orders:write"])
async def starlette_endpoint(request: Request, principal: Principal) -> Response:
    return PlainTextResponse(principal.principal_id)


@authorize(API.verifier, scopes=["orders:write"])
def sync_starlette_endpoint(request: Request, principal: Principal) -> Response:
    return PlainTextResponse(principal.principal_id)


@pytest.mark.parametrize("endpoint", [starlette_endpoint, sync_starlette_endpoint])
@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_starlette_endpoint_decorator(kind: str, status: int, challenge: str | None, endpoint: Any) -> None:
    app = Starlette(routes=[Route("/orders", endpoint)])
    with TestClient(app) as client:
        response = client.get("/orders", headers=auth_headers(kind))

    assert response.status_code == status
    assert response.headers.get("www-authenticate") == challenge
    if status == 200:
        assert response.text == "alice"


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.get("/orders/{order_id}")
    @authorize(API.verifier, scopes=["orders:write"])
    async def get_order(order_id: int, principal: Principal, view: str = "full") -> dict[str, Any]:
        return {"order": order_id, "view": view, "by": principal.principal_id}

    @app.get("/me")
    @authorize(API.verifier)
    def me(request: Request, principal: Principal) -> dict[str, Any]:
        return {"sub": principal.subject, "path": request.url.path}

    return app


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_fastapi_path_operation_decorator(kind: str, status: int, challenge: str | None) -> None:
    with TestClient(fastapi_app()) as client:
        response = client.get("/orders/7?view=short", headers=auth_headers(kind))

    assert response.status_code == status
    assert response.headers.get("www-authenticate") == challenge
    if status == 200:
        assert response.json() == {"order": 7, "view": "short", "by": "alice"}


def test_fastapi_keeps_validation_and_sync_endpoints_with_request() -> None:
    with TestClient(fastapi_app()) as client:
        invalid = client.get("/orders/not-a-number", headers=auth_headers("good"))
        me = client.get("/me", headers=auth_headers("good"))
        schema = client.get("/openapi.json").json()

    assert invalid.status_code == 422
    assert me.json() == {"sub": "alice", "path": "/me"}
    parameters = {p["name"] for p in schema["paths"]["/orders/{order_id}"]["get"]["parameters"]}
    assert parameters == {"order_id", "view"}


def test_endpoint_without_principal_parameter_is_refused() -> None:
    async def endpoint(request: Request) -> Response:
        return JSONResponse({})

    with pytest.raises(ConfigurationError):
        authorize(API.verifier)(endpoint)


def test_fastapi_openapi_shows_the_bearer_scheme_so_docs_has_authorize() -> None:
    with TestClient(fastapi_app()) as client:
        schema = client.get("/openapi.json").json()
        docs = client.get("/docs")
        forged = client.get("/orders/7", headers={"Authorization": "Bearer not-a-token"})
        genuine = client.get("/orders/7", headers=auth_headers("good"))

    scheme = schema["components"]["securitySchemes"]["TesseraBearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for path in ("/orders/{order_id}", "/me"):
        operation = schema["paths"][path]["get"]
        assert operation["security"] == [{"TesseraBearer": []}]
        assert "tessera_credentials" not in {p["name"] for p in operation.get("parameters", [])}
    assert docs.status_code == 200
    assert forged.status_code == 401  # the scheme documents the header; Tessera still decides
    assert genuine.json() == {"order": 7, "view": "full", "by": "alice"}


def test_fastapi_cookie_and_header_credentials_are_documented_as_such() -> None:
    app = FastAPI()

    @app.get("/cookie")
    @authorize(API.verifier, cookie="session")
    async def by_cookie(principal: Principal) -> str:
        return principal.principal_id

    @app.get("/header")
    @authorize(API.verifier, header="x-apigw-token")
    async def by_header(principal: Principal) -> str:
        return principal.principal_id

    with TestClient(app) as client:
        schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
        client.cookies.set("session", API.token())
        answer = client.get("/cookie")
    assert schemes["TesseraCookie"] == {"type": "apiKey", "in": "cookie", "name": "session"}
    assert schemes["TesseraHeader"] == {"type": "apiKey", "in": "header", "name": "x-apigw-token"}
    assert answer.json() == "alice"
