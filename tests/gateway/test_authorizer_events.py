"""What an authorizer receives: the documented TOKEN, REQUEST and HTTP API (2.0) inputs."""

from __future__ import annotations

import json
from typing import Any

from .conftest import ServeGateway
from .http_client import send

ARN = "arn:aws:execute-api:us-east-1:123456789012:local"


def _document(kind: str, version: str, sources: list[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {"simple_responses": True} if kind == "HTTP" else {}
    return {
        "gateway": {
            "payload_version": version,
            "authorizer": "echo",
            "authorizers": {
                "echo": {
                    "handler": "gw_naive_authorizers:echo_event",
                    "type": kind,
                    "identity_sources": sources,
                    "ttl_seconds": 0,
                    **extra,
                }
            },
            "routes": [{"route": "GET /items/{id}", "handler": "gw_echo:echo"}],
        }
    }


def _authorizer_input(reply_body: dict[str, Any], version: str) -> dict[str, Any]:
    authorizer = reply_body["event"]["requestContext"]["authorizer"]
    raw = authorizer["lambda"]["event"] if version == "2.0" else authorizer["event"]
    event: dict[str, Any] = json.loads(raw)
    return event


def test_token_authorizer_input(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_document("TOKEN", "1.0", ["method.request.header.Authorization"]))
    reply = send("GET", f"{server.url}/items/5?x=1", headers={"Authorization": "Bearer abc"})
    assert reply.status == 200
    assert _authorizer_input(reply.json(), "1.0") == {
        "type": "TOKEN",
        "authorizationToken": "Bearer abc",
        "methodArn": f"{ARN}/dev/GET/items/5",
    }


def test_request_authorizer_input(serve_gateway: ServeGateway) -> None:
    sources = ["method.request.header.Authorization", "method.request.querystring.tenant"]
    server = serve_gateway(_document("REQUEST", "1.0", sources))
    reply = send("GET", f"{server.url}/items/5?tenant=t1", headers={"Authorization": "Bearer abc"})
    event = _authorizer_input(reply.json(), "1.0")
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == f"{ARN}/dev/GET/items/5"
    assert event["resource"] == "/items/{id}" and event["path"] == "/items/5"
    assert event["headers"]["Authorization"] == "Bearer abc"
    assert event["multiValueHeaders"]["Authorization"] == ["Bearer abc"]
    assert event["queryStringParameters"] == {"tenant": "t1"}
    assert event["pathParameters"] == {"id": "5"}
    assert event["requestContext"]["resourcePath"] == "/items/{id}"
    assert "body" not in event


def test_http_api_authorizer_input(serve_gateway: ServeGateway) -> None:
    sources = ["$request.header.Authorization", "$context.routeKey"]
    server = serve_gateway(_document("HTTP", "2.0", sources))
    headers = [("Authorization", "Bearer abc"), ("Cookie", "a=1; b=2")]
    reply = send("GET", f"{server.url}/items/5?x=1&x=2", headers=headers)
    event = _authorizer_input(reply.json(), "2.0")
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    assert event["routeArn"] == f"{ARN}/$default/GET/items/5"
    assert event["identitySource"] == ["Bearer abc", "GET /items/{id}"]
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/5" and event["rawQueryString"] == "x=1&x=2"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["authorization"] == "Bearer abc" and "cookie" not in event["headers"]
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["pathParameters"] == {"id": "5"}
    assert event["requestContext"]["http"]["method"] == "GET"
