"""AWS Lambda proxy events: REST v1, HTTP API v2, ALB (single and multi-value), Function URLs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tessera.protect import CORS, Principal
from tessera.protect.aws_lambda import EventShape, authorize, event_shape, request_from_event

from .support import Api, bearer, load_event

API = Api()
SHAPES = ["rest_v1", "http_v2", "function_url", "alb_single", "alb_multi"]


def with_authorization(event: dict[str, Any], *values: str) -> dict[str, Any]:
    """Add Authorization header value(s) the way the event's platform would deliver them."""
    if event.get("version") == "2.0":
        event["headers"]["authorization"] = ",".join(values)
        return event
    if "multiValueHeaders" in event:
        event["multiValueHeaders"]["Authorization"] = list(values)
    if "headers" in event:
        event["headers"]["Authorization"] = values[-1]
    return event


def headers_of(result: dict[str, Any]) -> dict[str, str]:
    if "multiValueHeaders" in result:
        return {k.lower(): ", ".join(v) for k, v in result["multiValueHeaders"].items()}
    return {k.lower(): v for k, v in result["headers"].items()}


@authorize(API.verifier, scopes=["orders:write"])
def handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": principal.principal_id}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("make_token", "status", "challenge"),
    [
        (API.token, 200, None),
        (None, 401, 'Bearer realm="tessera"'),
        (API.expired, 401, 'Bearer realm="tessera", error="invalid_token"'),
        (API.wrong_audience, 401, 'Bearer realm="tessera", error="invalid_token"'),
        (API.forged, 401, 'Bearer realm="tessera", error="invalid_token"'),
        (
            API.read_only,
            403,
            'Bearer realm="tessera", error="insufficient_scope", scope="orders:write"',
        ),
    ],
)
def test_every_shape_with_every_kind_of_token(
    shape: str, make_token: Callable[[], str] | None, status: int, challenge: str | None
) -> None:
    event = load_event(shape)
    if make_token is not None:
        with_authorization(event, bearer(make_token()))

    result = handler(event, None)

    assert result["statusCode"] == status
    if challenge is None:
        assert result["body"] == "alice"
        return
    headers = headers_of(result)
    assert headers["www-authenticate"] == challenge
    assert headers["cache-control"] == "no-store"
    assert json.loads(result["body"])["error"] in ("unauthorized", "invalid_token", "insufficient_scope")
    if shape.startswith("alb"):
        assert result["statusDescription"].startswith(str(status))
    assert ("multiValueHeaders" in result) == (shape in ("rest_v1", "alb_multi"))


def test_shapes_are_recognised() -> None:
    assert event_shape(load_event("rest_v1")) is EventShape.REST_V1
    assert event_shape(load_event("http_v2")) is EventShape.HTTP_V2
    assert event_shape(load_event("function_url")) is EventShape.HTTP_V2
    assert event_shape(load_event("alb_single")) is EventShape.ALB
    assert event_shape(load_event("alb_multi")) is EventShape.ALB


def test_v2_cookies_array_and_lower_case_headers_are_read() -> None:
    request = request_from_event(load_event("http_v2"))

    assert request.cookies.get_all("theme") == ["dark"]
    assert request.cookies["lang"] == "en"
    assert request.headers["Accept"] == "application/json"
    assert request.query.get_all("view") == ["full", "compact"]


def test_v2_cookie_token_is_accepted_when_configured() -> None:
    @authorize(API.verifier, cookie="__Host-at")
    def cookie_handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
        return {"statusCode": 200, "body": principal.principal_id}

    event = load_event("http_v2")
    event["cookies"].append(f"__Host-at={API.token()}")
    assert cookie_handler(event, None)["statusCode"] == 200
    assert cookie_handler(load_event("http_v2"), None)["statusCode"] == 401


def test_base64_form_body_is_decoded_for_the_ver52_check() -> None:
    token = API.token()
    event = with_authorization(load_event("function_url"), bearer(token))
    assert request_from_event(event).form()["name"] == "widget"
    assert handler(event, None)["statusCode"] == 200

    event["body"] = base64.b64encode(f"access_token={token}".encode()).decode()
    result = handler(event, None)

    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"] == "invalid_request"


def test_alb_query_values_are_percent_decoded() -> None:
    assert request_from_event(load_event("alb_single")).query["q"] == "blue widget"
    assert request_from_event(load_event("alb_multi")).query.get_all("tag") == ["a", "b"]


def test_ver52_rest_v1_two_authorization_values_are_invalid_request() -> None:
    token = API.token()
    event = with_authorization(load_event("rest_v1"), bearer(token), bearer(token))

    assert handler(event, None)["statusCode"] == 400
    assert handler(with_authorization(load_event("rest_v1"), bearer(token)), None)["statusCode"] == 200


def test_ver52_v2_joined_authorization_values_are_rejected() -> None:
    token = API.token()

    assert (
        handler(with_authorization(load_event("http_v2"), bearer(token), bearer(token)), None)["statusCode"]
        == 401
    )


def test_ver52_rest_v1_query_token_with_header_is_invalid_request() -> None:
    token = API.token()
    event = with_authorization(load_event("rest_v1"), bearer(token))
    event["queryStringParameters"] = {"access_token": token}
    event["multiValueQueryStringParameters"] = {"access_token": [token]}

    assert handler(event, None)["statusCode"] == 400


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "GET /",
        {},
        {"version": "2.0"},
        {"version": "2.0", "requestContext": {"http": {"method": 7}}, "rawPath": "/"},
        {"httpMethod": "GET", "path": "/", "headers": ["a"]},
        {"httpMethod": "GET", "path": "/", "multiValueHeaders": {"authorization": "Bearer x"}},
        {"httpMethod": "GET", "path": "/", "body": "%%%", "isBase64Encoded": True},
        {"requestContext": {"elb": {}}, "httpMethod": "GET", "path": None},
    ],
)
def test_malformed_events_get_a_clean_400(event: Any) -> None:
    result = handler(event, None)

    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"] == "invalid_request"


def test_async_handlers_are_run_to_completion() -> None:
    @authorize(API.verifier)
    async def async_handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
        return {"statusCode": 200, "body": principal.principal_id}

    assert (
        async_handler(with_authorization(load_event("http_v2"), bearer(API.token())), None)["body"] == "alice"
    )
    assert async_handler(load_event("http_v2"), None)["statusCode"] == 401


def test_cors_headers_are_added_to_handler_results_and_errors() -> None:
    @authorize(API.verifier, cors=CORS(allow_origins=["https://app.example"]))
    def cors_handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"X-Id": "1"}, "body": "ok"}

    ok_event = with_authorization(load_event("http_v2"), bearer(API.token()))
    ok_event["headers"]["origin"] = "https://app.example"
    error_event = load_event("rest_v1")
    error_event["headers"]["Origin"] = "https://app.example"
    error_event["multiValueHeaders"]["Origin"] = ["https://app.example"]

    ok = cors_handler(ok_event, None)
    error = cors_handler(error_event, None)

    assert ok["headers"]["Access-Control-Allow-Origin"] == "https://app.example"
    assert ok["headers"]["X-Id"] == "1"
    assert headers_of(error)["access-control-allow-origin"] == "https://app.example"


def with_query(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """Add one query parameter the way the event's platform would deliver it (ALB: still encoded)."""
    encoded = name.replace("_", "%5F") if event_shape(event) is EventShape.ALB else name
    if event.get("version") == "2.0":
        event["rawQueryString"] = f"{name}={value}"
        event["queryStringParameters"] = {name: value}
        return event
    if "multiValueQueryStringParameters" in event:
        event["multiValueQueryStringParameters"] = {encoded: [value]}
    if "queryStringParameters" in event:
        event["queryStringParameters"] = {encoded: value}
    return event


@pytest.mark.parametrize("shape", SHAPES)
def test_ver52_every_shape_refuses_a_query_token_next_to_the_header(shape: str) -> None:
    token = API.token()
    both = with_query(with_authorization(load_event(shape), bearer(token)), "access_token", token)
    query_only = with_query(load_event(shape), "access_token", token)
    genuine = with_query(with_authorization(load_event(shape), bearer(token)), "page", "2")

    assert handler(both, None)["statusCode"] == 400
    assert json.loads(handler(both, None)["body"])["error"] == "invalid_request"
    assert handler(query_only, None)["statusCode"] == 401
    assert handler(genuine, None)["body"] == "alice"


@pytest.mark.parametrize("shape", ["rest_v1", "alb_multi"])
def test_ver52_multi_value_shapes_refuse_two_authorization_values(shape: str) -> None:
    token = API.token()

    assert (
        handler(with_authorization(load_event(shape), bearer(token), bearer(token)), None)["statusCode"]
        == 400
    )
    assert handler(with_authorization(load_event(shape), bearer(token)), None)["body"] == "alice"


@pytest.mark.parametrize("shape", ["http_v2", "function_url"])
def test_ver52_v2_shapes_refuse_joined_authorization_values_and_accept_one(shape: str) -> None:
    token = API.token()
    joined = handler(with_authorization(load_event(shape), bearer(token), bearer(token)), None)

    assert joined["statusCode"] == 401
    assert headers_of(joined)["www-authenticate"] == 'Bearer realm="tessera", error="invalid_token"'
    assert handler(with_authorization(load_event(shape), bearer(token)), None)["body"] == "alice"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("value", "status"),
    [("bearer {t}", 200), ("BEARER {t}", 200), ("Basic {t}", 401), ("Bearer {t} extra", 401), ("", 400)],
)
def test_ver53_scheme_parsing_on_every_shape(shape: str, value: str, status: int) -> None:
    token = API.token()

    result = handler(with_authorization(load_event(shape), value.replace("{t}", token)), None)

    assert result["statusCode"] == status
    assert handler(with_authorization(load_event(shape), bearer(token)), None)["body"] == "alice"


@pytest.mark.parametrize("shape", SHAPES)
def test_ver54_every_invalid_token_gets_the_same_body_on_every_shape(shape: str) -> None:
    token = API.token()
    bad_signature = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    invalid = [bad_signature, API.expired(), API.wrong_audience(), "garbage", API.forged()]
    results = [handler(with_authorization(load_event(shape), bearer(t)), None) for t in invalid]

    assert {r["statusCode"] for r in results} == {401}
    assert len({r["body"] for r in results}) == 1
    assert all(t not in r["body"] for t, r in zip(invalid, results, strict=True))
    assert handler(with_authorization(load_event(shape), bearer(token)), None)["body"] == "alice"


def test_v2_rejection_uses_the_v2_headers_map_even_if_the_event_has_multi_value_headers() -> None:
    # HTTP API payload 2.0 responses have no multiValueHeaders: API Gateway would drop the challenge.
    event = load_event("http_v2")
    event["multiValueHeaders"] = {"accept": ["application/json"]}

    result = handler(event, None)

    assert result["statusCode"] == 401
    assert result["headers"]["WWW-Authenticate"] == 'Bearer realm="tessera"'
    assert "multiValueHeaders" not in result
    assert handler(with_authorization(event, bearer(API.token())), None)["body"] == "alice"
