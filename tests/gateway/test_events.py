"""Real HTTP in, genuine API Gateway proxy events to the handler, proxy results back to HTTP."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from .conftest import FakeClock, ServeGateway
from .http_client import send

ECHO_ROUTES: dict[str, Any] = {
    "routes": [
        {"method": "GET", "path": "/items/{id}", "handler": "gw_echo:echo"},
        {"method": "POST", "path": "/upload", "handler": "gw_echo:png"},
    ],
    "gateway": {
        "payload_version": "1.0",
        "routes": [
            {"route": "GET /v2/items/{id}", "handler": "gw_echo:echo", "payload_version": "2.0"},
            {"route": "POST /v2/upload", "handler": "gw_echo:echo", "payload_version": "2.0"},
            {"route": "ANY /files/{proxy+}", "handler": "gw_echo:echo"},
            {"route": "GET /bare", "handler": "gw_echo:bare", "payload_version": "2.0"},
            {"route": "GET /boom", "handler": "gw_echo:boom"},
            {"route": "GET /malformed", "handler": "gw_echo:malformed"},
        ],
    },
}

HEADERS = [
    ("X-Dup", "first"),
    ("X-Dup", "second"),
    ("User-Agent", "tessera-test"),
    ("Cookie", "session=abc; theme=dark"),
    ("Cookie", "lang=en"),
]


def test_v1_event_has_the_rest_proxy_shape(serve_gateway: ServeGateway, clock: FakeClock) -> None:
    server = serve_gateway(ECHO_ROUTES)
    reply = send("GET", f"{server.url}/items/42?tag=a&tag=b&empty=", headers=HEADERS)
    assert reply.status == 200
    event = reply.json()["event"]
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["X-Dup"] == "second"
    assert event["multiValueHeaders"]["X-Dup"] == ["first", "second"]
    assert event["headers"]["Cookie"] == "lang=en"
    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "dev"
    assert context["path"] == "/dev/items/42"
    assert context["resourcePath"] == "/items/{id}"
    assert context["httpMethod"] == "GET"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "tessera-test"
    assert context["requestTimeEpoch"] == int(clock.now * 1000)
    assert context["requestTime"] == "14/Nov/2023:22:13:20 +0000"
    assert context["requestId"] == reply.header("x-amzn-RequestId")
    assert "authorizer" not in context
    assert reply.header_values("X-Multi") == ["one", "two"]
    assert reply.header("X-Request-Id")  # the Lambda context's request id


def test_v1_event_without_query_or_parameters_uses_null(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(ECHO_ROUTES)
    event = send("DELETE", f"{server.url}/files/a/b%20c/d.txt").json()["event"]
    assert event["resource"] == "/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b c/d.txt"}
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_v2_event_has_the_http_api_shape(serve_gateway: ServeGateway, clock: FakeClock) -> None:
    server = serve_gateway(ECHO_ROUTES)
    reply = send("GET", f"{server.url}/v2/items/7?tag=a&tag=b", headers=HEADERS)
    assert reply.status == 200
    event = reply.json()["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v2/items/{id}"
    assert event["rawPath"] == "/v2/items/7"
    assert event["rawQueryString"] == "tag=a&tag=b"
    assert event["headers"]["x-dup"] == "first,second"
    assert all(name == name.lower() for name in event["headers"])
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=en"]
    assert event["queryStringParameters"] == {"tag": "a,b"}
    assert event["pathParameters"] == {"id": "7"}
    assert "multiValueHeaders" not in event and "body" not in event
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["routeKey"] == "GET /v2/items/{id}"
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET",
        "path": "/v2/items/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tessera-test",
    }
    assert context["timeEpoch"] == int(clock.now * 1000)
    assert reply.header_values("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly"]


def test_binary_bodies_travel_base64_both_ways(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(ECHO_ROUTES)
    payload = bytes(range(256))
    reply = send("POST", f"{server.url}/upload", headers={"Content-Type": "image/png"}, body=payload)
    assert reply.status == 201
    assert reply.header("Content-Type") == "image/png"
    assert reply.body == payload


def test_text_bodies_stay_text_and_binary_ones_are_flagged(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(ECHO_ROUTES)
    text = send(
        "POST",
        f"{server.url}/v2/upload",
        headers={"Content-Type": "application/json"},
        body=b'{"a": "\xc3\xa9"}',
    ).json()["event"]
    assert text["isBase64Encoded"] is False and text["body"] == '{"a": "é"}'
    binary = send(
        "POST",
        f"{server.url}/v2/upload",
        headers={"Content-Type": "application/octet-stream"},
        body=b"\x00\xff",
    ).json()["event"]
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"


def test_v2_result_without_status_code_becomes_json_200(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(ECHO_ROUTES)
    reply = send("GET", f"{server.url}/bare")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    assert reply.json() == {"hello": "/bare"}


def test_failing_or_malformed_handler_gives_502(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(ECHO_ROUTES)
    for path in ("/boom", "/malformed"):
        reply = send("GET", f"{server.url}{path}")
        assert reply.status == 502
        assert reply.json() == {"message": "Internal server error"}
        assert b"exploded" not in reply.body
    assert send("GET", f"{server.url}/items/1").status == 200


def test_unknown_route_is_404(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(ECHO_ROUTES)
    assert send("GET", f"{server.url}/nowhere").status == 404
    assert send("POST", f"{server.url}/items/1").status == 404
    assert send("GET", f"{server.url}/items/1").status == 200


def test_missing_handler_module_is_502_in_process(serve_gateway: ServeGateway) -> None:
    routes = {"gateway": {"routes": [{"route": "GET /x", "handler": "gw_missing_module:handler"}]}}
    server = serve_gateway(routes)
    assert send("GET", f"{server.url}/x").status == 502


def test_chunked_or_unsized_bodies_are_refused_cleanly(serve_gateway: ServeGateway) -> None:
    import socket

    server = serve_gateway(ECHO_ROUTES)
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"POST /v2/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 411 ")
    reply = send("GET", f"{server.url}/items/1")
    assert reply.status == 200


def test_malformed_request_lines_never_log_their_query_token(
    serve_gateway: ServeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    caplog.set_level(logging.DEBUG, logger="tessera.gateway")
    server = serve_gateway(ECHO_ROUTES)
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"GET /items/1?access_token=SECRET-IN-QUERY x HTTP/1.1\r\nHost: x\r\n\r\n")
        raw.recv(100)  # http.server answers a bad request line as HTTP/0.9: nothing, then closes
    reply = send("GET", f"{server.url}/items/1?access_token=SECRET-IN-GOOD-QUERY")

    assert reply.status == 200
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "400" in logged and "/items/1 200" in logged
    assert "SECRET" not in logged
