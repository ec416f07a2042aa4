"""One ``tessera`` log line per refused request, with the reason code and the route, never the
token: from the adapters (through the Guard), the Lambda authorizer; JSON on Lambda."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tessera.protect import Principal
from tessera.protect.asgi import authorize
from tessera.protect.authorizer import LambdaAuthorizer, Unauthorized
from tessera.protect.aws_lambda import authorize as lambda_authorize
from tessera.protect.routes import parse_routes

from .support import Api, bearer, load_event

API = Api()
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
RULES = parse_routes({"routes": [{"method": "GET", "path": "/items/{id}", "scopes": ["items:read"]}]})


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "tessera"]


def _app() -> Starlette:
    @authorize(API.verifier, scopes=["orders:write"])
    async def orders(request: Request, principal: Principal) -> Response:
        return PlainTextResponse(principal.principal_id)

    return Starlette(routes=[Route("/orders/{id}", orders)])


def test_each_adapter_rejection_is_one_line_with_reason_and_route_and_no_token(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    caplog.set_level(logging.INFO, logger="tessera")
    tokens = {"wrong_audience": API.wrong_audience(), "read_only": API.read_only(), "good": API.token()}
    with TestClient(_app()) as client:
        assert client.get("/orders/1?access_token=abc").status_code == 401
        for token in tokens.values():
            client.get("/orders/2", headers={"Authorization": bearer(token)})
    assert _lines(caplog) == [
        "tessera.protect refused GET /orders/1: missing_token (401)",
        "tessera.protect refused GET /orders/2: wrong_audience (401)",
        "tessera.protect refused GET /orders/2: insufficient_scope (403)",
    ]  # the genuine token: nothing
    everything = caplog.text
    assert not any(token in everything or token.split(".")[1] in everything for token in tokens.values())
    assert "abc" not in everything


def test_on_lambda_the_line_is_json(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    caplog.set_level(logging.INFO, logger="tessera")

    @lambda_authorize(API.verifier, scopes=["orders:write"])
    def handler(event: dict[str, Any], context: Any, principal: Principal) -> dict[str, Any]:
        return {"statusCode": 200, "body": principal.principal_id}

    event = load_event("http_v2")
    event["headers"]["authorization"] = bearer(API.expired())
    assert handler(event, None)["statusCode"] == 401
    [line] = _lines(caplog)
    record = json.loads(line)
    assert record["event"] == "request_rejected"
    assert record["reason"] == "expired"
    assert record["status"] == 401
    assert (record["method"], record["route"]) == (
        event["requestContext"]["http"]["method"],
        event["rawPath"],
    )


def test_the_authorizer_logs_refusals_and_denied_routes_not_allowed_callers(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    caplog.set_level(logging.INFO, logger="tessera")
    authorizer = LambdaAuthorizer(API.verifier, RULES)
    event = load_event("authorizer_token")
    event["methodArn"] = f"{PREFIX}/GET/items/7"
    for token in (API.forged(), "not-a-jwt"):
        with pytest.raises(Unauthorized):
            authorizer({**event, "authorizationToken": bearer(token)})
    other = bearer(API.token(scope="other"))
    authorizer({**event, "authorizationToken": other})
    authorizer({**event, "authorizationToken": other})  # the same policy, decided once per token
    authorizer({**event, "authorizationToken": bearer(API.token(scope="items:read"))})
    assert _lines(caplog) == [
        "tessera.authorizer refused GET /items/7: unknown_key (401)",
        "tessera.authorizer refused GET /items/7: malformed (401)",
        "tessera.authorizer refused GET /items/7: route_not_allowed (403)",
    ]


def test_simple_responses_log_every_refusal(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    caplog.set_level(logging.INFO, logger="tessera")
    authorizer = LambdaAuthorizer(API.verifier, RULES, simple_responses=True)
    event = load_event("authorizer_v2")
    event["routeArn"] = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/items/7"
    event["headers"]["authorization"] = bearer(API.token(scope="other"))
    assert [authorizer(event)["isAuthorized"] for _ in range(2)] == [False, False]
    event["headers"]["authorization"] = bearer(API.token(scope="items:read"))
    assert authorizer(event)["isAuthorized"] is True
    assert _lines(caplog) == ["tessera.authorizer refused GET /items/7: route_not_allowed (403)"] * 2


def test_a_hostile_route_stays_one_line() -> None:
    from tessera.protect.audit_log import _clean

    assert _clean("/a\nforged line\r?token=x") == "/a?forged?line?"
    assert len(_clean("/" + "x" * 5000)) == 200
    assert _clean(None) == "-"
