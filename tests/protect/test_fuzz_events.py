"""Property tests: hostile events and requests only ever get a well-formed rejection.

Every adapter and authorizer is fed malformed values where the platform puts its fields, random
header bytes and random ARNs. The outcome must be a 400/401/403 in the platform's own shape (or
``Unauthorized`` from an authorizer), or, for the genuine token inside an otherwise valid event,
acceptance: never another exception, never a 5xx, never an Allow without the genuine token. The
genuine token is still accepted when harmless noise (unknown headers, unknown event keys) is added.
Examples are derandomized so that CI is stable.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Iterable
from typing import Any

import azure.functions as func
import flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.protect import Guard, Principal, aws_lambda, azure_functions, gcf, lambda_edge
from tessera.protect import asgi as protect_asgi
from tessera.protect import wsgi as protect_wsgi
from tessera.protect.authorizer import LambdaAuthorizer, Unauthorized
from tessera.protect.routes import parse_routes

from .support import Api, bearer, load_event

API = Api()
# minted at import: a day, so it outlives a slow suite
TOKEN = API.token(scope="orders:read orders:write items:read", exp=int(time.time()) + 86_400)
GOOD = bearer(TOKEN)
REJECTIONS = {400, 401, 403}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NOISE = settings(max_examples=25, deadline=None, derandomize=True, database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
# Header names a client could add without changing what the adapters read.
noise_names = st.from_regex(r"x-[a-z0-9-]{1,16}", fullmatch=True)
noise_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
noise_headers = st.dictionaries(noise_names, noise_values, max_size=5)
noise_keys = st.dictionaries(st.from_regex(r"zz[A-Za-z0-9]{1,12}", fullmatch=True), json_values, max_size=4)


# --- API Gateway, ALB and Function URL events -------------------------------------------------

SHAPES = ("rest_v1", "http_v2", "function_url", "alb_single", "alb_multi")
LAMBDA_FIELDS = (
    "headers",
    "multiValueHeaders",
    "cookies",
    "body",
    "isBase64Encoded",
    "requestContext",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "rawQueryString",
    "rawPath",
    "httpMethod",
    "path",
    "version",
)


@aws_lambda.authorize(API.verifier, scopes=["orders:read"])
def lambda_handler(event: Any, context: object, principal: Principal) -> dict[str, Any]:
    return {"statusCode": 200, "body": principal.principal_id}


def lambda_event(shape: str, authorization: str | None = GOOD) -> dict[str, Any]:
    """The ``shape`` fixture with a GET, no body, and ``authorization`` where the platform puts it."""
    event = load_event(shape)
    event["body"] = None
    event["isBase64Encoded"] = False
    if "httpMethod" in event:
        event["httpMethod"] = "GET"
    else:
        event["requestContext"]["http"]["method"] = "GET"
    if authorization is None:
        return event
    if event.get("version") == "2.0":
        event["headers"]["authorization"] = authorization
        return event
    if isinstance(event.get("multiValueHeaders"), dict):
        event["multiValueHeaders"]["Authorization"] = [authorization]
    if isinstance(event.get("headers"), dict):
        event["headers"]["Authorization"] = authorization
    return event


def carries_genuine_token(value: Any) -> bool:
    return TOKEN in json.dumps(value, default=repr)


def assert_lambda_rejection(result: Any, event: Any) -> None:
    """A proxy response with a 4xx status and the RFC 6750 answer in the shape's header map."""
    assert isinstance(result, dict)
    assert result["statusCode"] in REJECTIONS
    assert isinstance(result["body"], str) and "error" in json.loads(result["body"])
    try:
        shape = aws_lambda.event_shape(event)
    except Exception:
        shape = None
    if shape is aws_lambda.EventShape.HTTP_V2:
        headers = result["headers"]
    else:
        headers = result.get("multiValueHeaders") or result["headers"]
    assert any(name.lower() == "www-authenticate" for name in headers)


def check_lambda_outcome(event: Any) -> None:
    result = lambda_handler(event, None)
    if isinstance(result, dict) and result.get("statusCode") == 200:
        assert carries_genuine_token(event)
        assert result["body"] == "alice"
        return
    assert_lambda_rejection(result, event)


@FUZZ
@given(
    shape=st.sampled_from(SHAPES),
    field=st.sampled_from(LAMBDA_FIELDS),
    value=json_values,
    with_token=st.booleans(),
)
def test_lambda_events_with_a_hostile_field_get_a_well_formed_answer(
    shape: str, field: str, value: Any, with_token: bool
) -> None:
    event = lambda_event(shape, GOOD if with_token else None)
    event[field] = value

    check_lambda_outcome(event)


@FUZZ
@given(
    shape=st.sampled_from(SHAPES),
    place=st.sampled_from(("headers", "multiValueHeaders", "requestContext")),
    name=st.text(max_size=15) | st.sampled_from(("authorization", "Authorization", "http", "elb", "cookie")),
    value=json_values,
)
def test_lambda_events_with_a_hostile_nested_value_get_a_well_formed_answer(
    shape: str, place: str, name: str, value: Any
) -> None:
    event = lambda_event(shape)
    container = event.get(place)
    if not isinstance(container, dict):
        container = event[place] = {}
    container[name] = value

    check_lambda_outcome(event)


@FUZZ
@given(shape=st.sampled_from(SHAPES), authorization=st.text(max_size=60))
def test_lambda_events_with_a_random_authorization_are_never_accepted(shape: str, authorization: str) -> None:
    event = lambda_event(shape, authorization)

    assert_lambda_rejection(lambda_handler(event, None), event)


@FUZZ
@given(event=json_values)
def test_lambda_handler_given_any_json_value_rejects_it(event: Any) -> None:
    assert_lambda_rejection(lambda_handler(event, None), event)


@NOISE
@given(shape=st.sampled_from(SHAPES), headers=noise_headers, keys=noise_keys)
def test_lambda_genuine_token_is_accepted_through_noise(
    shape: str, headers: dict[str, str], keys: dict[str, Any]
) -> None:
    event = lambda_event(shape)
    event.update(keys)
    if event.get("version") == "2.0":
        event["headers"].update(headers)
    else:
        if isinstance(event.get("multiValueHeaders"), dict):
            event["multiValueHeaders"].update({k: [v] for k, v in headers.items()})
        if isinstance(event.get("headers"), dict):
            event["headers"].update(headers)

    assert lambda_handler(event, None) == {"statusCode": 200, "body": "alice"}
    assert_lambda_rejection(lambda_handler(lambda_event(shape, None), None), event)


# --- Lambda authorizers --------------------------------------------------------------------------

RULES = parse_routes(
    {
        "routes": [
            {"method": "GET", "path": "/items", "scopes": ["items:read"]},
            {"method": "GET", "path": "/items/{id}", "scopes": ["items:read"]},
            {"method": "DELETE", "path": "/items/{id}", "scopes": ["items:write"]},
        ]
    }
)
AUTHORIZER = LambdaAuthorizer(API.verifier, RULES)
SIMPLE_AUTHORIZER = LambdaAuthorizer(API.verifier, RULES, simple_responses=True, cache_ttl_seconds=0)
REST_PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
V2_PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default"
AUTHORIZER_KINDS = ("authorizer_token", "authorizer_request_v1", "authorizer_v2")


def authorizer_event(kind: str, authorization: str | None = GOOD) -> dict[str, Any]:
    """An authorizer event of ``kind`` for ``GET /items`` carrying ``authorization``."""
    event = load_event(kind)
    if kind == "authorizer_token":
        event["authorizationToken"] = authorization
    elif kind == "authorizer_v2":
        event["routeArn"] = f"{V2_PREFIX}/GET/items"
        event["identitySource"] = [authorization] if authorization else []
        if authorization is not None:
            event["headers"]["authorization"] = authorization
    else:
        event["methodArn"] = f"{REST_PREFIX}/GET/items"
        if authorization is not None:
            event["headers"]["Authorization"] = authorization
            event["multiValueHeaders"]["Authorization"] = [authorization]
    return event


def authorizer_answer(authorizer: LambdaAuthorizer, event: Any) -> dict[str, Any] | None:
    """The authorizer's answer, or None when it raised ``Unauthorized`` (any other error fails)."""
    try:
        return authorizer(event, None)
    except Unauthorized:
        return None


def allowed_resources(answer: dict[str, Any]) -> list[str]:
    return [
        resource
        for statement in answer["policyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for resource in statement["Resource"]
    ]


def check_authorizer_outcome(event: Any) -> None:
    answer = authorizer_answer(AUTHORIZER, event)
    if answer is not None:
        assert carries_genuine_token(event)
        resources = [r for s in answer["policyDocument"]["Statement"] for r in s["Resource"]]
        arn = event.get("methodArn", event.get("routeArn"))
        assert isinstance(arn, str)
        stage_prefix = "/".join(arn.split("/", 2)[:2]) + "/"
        assert resources and all(r.startswith(stage_prefix) for r in resources)
    simple = authorizer_answer(SIMPLE_AUTHORIZER, event)
    if simple is not None and "isAuthorized" in simple:
        assert simple["isAuthorized"] is False or carries_genuine_token(event)


@FUZZ
@given(
    kind=st.sampled_from(AUTHORIZER_KINDS),
    field=st.sampled_from(
        (
            "type",
            "version",
            "authorizationToken",
            "methodArn",
            "routeArn",
            "identitySource",
            "headers",
            "multiValueHeaders",
            "cookies",
            "requestContext",
            "httpMethod",
            "rawPath",
            "queryStringParameters",
        )
    ),
    value=json_values,
    with_token=st.booleans(),
)
def test_authorizer_events_with_a_hostile_field_fail_cleanly(
    kind: str, field: str, value: Any, with_token: bool
) -> None:
    event = authorizer_event(kind, GOOD if with_token else None)
    event[field] = value

    check_authorizer_outcome(event)


arn_pieces = st.tuples(
    st.sampled_from(("aws", "aws-cn", "aws-us-gov", "aws-x", "")),
    st.sampled_from(("us-east-1", "eu-west-3", "us-gov-west-1", "*", "x")),
    st.sampled_from(("123456789012", "12345", "*")),
    st.sampled_from(("abcdef123", "other", "*", "")),
    st.sampled_from(("prod", "$default", "*", "dev")),
    st.sampled_from(("GET", "DELETE", "*", "get", "")),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F), max_size=40),
)


@FUZZ
@given(
    kind=st.sampled_from(AUTHORIZER_KINDS),
    arn=st.text(max_size=80)
    | arn_pieces.map(lambda p: f"arn:{p[0]}:execute-api:{p[1]}:{p[2]}:{p[3]}/{p[4]}/{p[5]}/{p[6]}"),
)
def test_authorizer_random_arns_never_widen_the_policy(kind: str, arn: str) -> None:
    event = authorizer_event(kind)
    event["routeArn" if kind == "authorizer_v2" else "methodArn"] = arn

    answer = authorizer_answer(AUTHORIZER, event)

    if answer is not None:
        stage_prefix = "/".join(arn.split("/", 2)[:2]) + "/"
        resources = [r for s in answer["policyDocument"]["Statement"] for r in s["Resource"]]
        assert resources and all(r.startswith(stage_prefix) and "*" not in stage_prefix for r in resources)


@FUZZ
@given(kind=st.sampled_from(AUTHORIZER_KINDS), authorization=st.text(max_size=60))
def test_authorizer_random_credentials_are_unauthorized(kind: str, authorization: str) -> None:
    event = authorizer_event(kind, authorization)

    assert authorizer_answer(AUTHORIZER, event) is None
    simple = authorizer_answer(SIMPLE_AUTHORIZER, event)
    assert simple is None or simple.get("isAuthorized") is False


@FUZZ
@given(event=json_values)
def test_authorizer_given_any_json_value_is_unauthorized(event: Any) -> None:
    assert authorizer_answer(AUTHORIZER, event) is None


@NOISE
@given(kind=st.sampled_from(AUTHORIZER_KINDS), headers=noise_headers, keys=noise_keys)
def test_authorizer_genuine_token_is_allowed_through_noise(
    kind: str, headers: dict[str, str], keys: dict[str, Any]
) -> None:
    event = authorizer_event(kind)
    event.update(keys)
    if isinstance(event.get("headers"), dict):
        event["headers"].update(headers)
    if isinstance(event.get("multiValueHeaders"), dict):
        event["multiValueHeaders"].update({k: [v] for k, v in headers.items()})

    answer = authorizer_answer(AUTHORIZER, event)

    assert answer is not None and answer["principalId"] == "alice"
    prefix = V2_PREFIX if kind == "authorizer_v2" else REST_PREFIX
    assert f"{prefix}/GET/items" in allowed_resources(answer)
    assert authorizer_answer(AUTHORIZER, authorizer_event(kind, None)) is None


# --- Lambda@Edge ---------------------------------------------------------------------------------

EDGE = lambda_edge.viewer_request(API.verifier, scopes=["orders:read"])
EDGE_FIELDS = ("headers", "method", "uri", "querystring", "body", "clientIp")


def edge_event(authorization: str | None = GOOD) -> dict[str, Any]:
    event = load_event("cloudfront_viewer_request")
    if authorization is not None:
        headers = event["Records"][0]["cf"]["request"]["headers"]
        headers["authorization"] = [{"key": "Authorization", "value": authorization}]
    return event


def check_edge_outcome(event: Any) -> None:
    result = EDGE(event, None)
    assert isinstance(result, dict)
    if "status" not in result:
        assert carries_genuine_token(event)
        assert result is event["Records"][0]["cf"]["request"]
        return
    assert int(result["status"]) in REJECTIONS
    assert "www-authenticate" in result["headers"]
    assert "error" in json.loads(result["body"])


@FUZZ
@given(field=st.sampled_from(EDGE_FIELDS), value=json_values, with_token=st.booleans())
def test_edge_requests_with_a_hostile_field_get_a_well_formed_answer(
    field: str, value: Any, with_token: bool
) -> None:
    event = edge_event(GOOD if with_token else None)
    event["Records"][0]["cf"]["request"][field] = value

    check_edge_outcome(event)


@FUZZ
@given(
    name=st.text(max_size=15) | st.just("authorization"),
    value=json_values,
    where=st.sampled_from(("entries", "value")),
)
def test_edge_hostile_header_entries_get_a_well_formed_answer(name: str, value: Any, where: str) -> None:
    event = edge_event()
    headers = event["Records"][0]["cf"]["request"]["headers"]
    headers[name] = value if where == "entries" else [{"key": name, "value": value}]

    check_edge_outcome(event)


@FUZZ
@given(event=json_values, authorization=st.text(max_size=60))
def test_edge_any_json_value_or_random_authorization_is_rejected(event: Any, authorization: str) -> None:
    for hostile in (event, edge_event(authorization)):
        result = EDGE(hostile, None)
        assert int(result["status"]) in REJECTIONS


@NOISE
@given(headers=noise_headers)
def test_edge_genuine_token_is_forwarded_through_noise(headers: dict[str, str]) -> None:
    event = edge_event()
    request = event["Records"][0]["cf"]["request"]
    request["headers"].update({k: [{"key": k, "value": v}] for k, v in headers.items()})

    assert EDGE(event, None) is request
    assert EDGE(edge_event(None), None)["status"] == "401"


# --- WSGI and ASGI middlewares -------------------------------------------------------------------

GUARD = Guard(API.verifier, scopes=["orders:read"])
header_bytes = st.binary(min_size=1, max_size=24).filter(lambda b: b"\r" not in b and b"\n" not in b)
raw_headers = st.lists(
    st.tuples(header_bytes | st.just(b"authorization") | st.just(b"content-type"), st.binary(max_size=60)),
    max_size=5,
)


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [protect_wsgi.get_principal(environ).principal_id.encode()]


WSGI = protect_wsgi.AuthorizeMiddleware(wsgi_app, guard=GUARD)


def wsgi_call(headers: list[tuple[bytes, bytes]], method: str = "GET") -> tuple[int, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/orders", "QUERY_STRING": ""}
    for name, value in headers:
        key = name.decode("latin-1").upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
        environ[key] = value.decode("latin-1")
    statuses: list[str] = []
    body = b"".join(WSGI(environ, lambda status, headers, *exc: statuses.append(status)))
    return int(statuses[0].split(" ", 1)[0]), body


@FUZZ
@given(headers=raw_headers, method=st.sampled_from(("GET", "POST", "OPTIONS")), with_token=st.booleans())
def test_wsgi_random_header_bytes_get_a_well_formed_answer(
    headers: list[tuple[bytes, bytes]], method: str, with_token: bool
) -> None:
    sent = [*headers, (b"authorization", GOOD.encode())] if with_token else headers

    status, body = wsgi_call(sent, method)

    if status == 200:
        assert with_token and body == b"alice"
    else:
        assert status in {*REJECTIONS, 413}


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send(
        {"type": "http.response.body", "body": protect_asgi.get_principal(scope).principal_id.encode()}
    )


ASGI = protect_asgi.AuthorizeMiddleware(asgi_app, guard=GUARD)


def asgi_call(
    headers: list[tuple[bytes, bytes]], method: str = "GET", query: bytes = b""
) -> tuple[int, bytes]:
    scope = {"type": "http", "method": method, "path": "/orders", "query_string": query, "headers": headers}
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        messages.append(message)

    asyncio.run(ASGI(scope, receive, send))
    return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])


@FUZZ
@given(
    headers=raw_headers,
    method=st.sampled_from(("GET", "POST", "OPTIONS")),
    query=st.binary(max_size=30),
    with_token=st.booleans(),
)
def test_asgi_random_header_bytes_get_a_well_formed_answer(
    headers: list[tuple[bytes, bytes]], method: str, query: bytes, with_token: bool
) -> None:
    sent = [*headers, (b"authorization", GOOD.encode())] if with_token else headers

    status, body = asgi_call(sent, method, query)

    if status == 200:
        assert with_token and body == b"alice"
    else:
        assert status in {*REJECTIONS, 413}


@NOISE
@given(headers=noise_headers)
def test_middlewares_accept_the_genuine_token_through_noise(headers: dict[str, str]) -> None:
    noise = [(k.encode(), v.encode()) for k, v in headers.items()]
    genuine = [*noise, (b"authorization", GOOD.encode())]

    assert wsgi_call(genuine) == (200, b"alice")
    assert asgi_call(genuine) == (200, b"alice")
    assert wsgi_call(noise)[0] == 401
    assert asgi_call(noise)[0] == 401


# --- Cloud Functions (Flask) and Azure Functions -------------------------------------------------

FLASK = flask.Flask("fuzz")
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
text_headers = st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True) | st.just("Authorization"),
    header_text,
    max_size=5,
)


@gcf.authorize(API.verifier, scopes=["orders:read"])
def cloud_function(request: flask.Request, principal: Principal) -> str:
    return principal.principal_id


@FUZZ
@given(headers=text_headers, query=header_text, with_token=st.booleans())
def test_gcf_random_headers_get_a_well_formed_answer(
    headers: dict[str, str], query: str, with_token: bool
) -> None:
    if with_token:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"} | {"Authorization": GOOD}
    with FLASK.test_request_context("/orders", headers=headers, query_string=query):
        result = cloud_function(flask.request)

    if result == "alice":
        assert with_token
    else:
        body, status, _ = result
        assert status in REJECTIONS and "error" in json.loads(body)


@azure_functions.authorize(API.verifier, scopes=["orders:read"])
def azure_function(req: func.HttpRequest, principal: Principal) -> func.HttpResponse:
    return func.HttpResponse(principal.principal_id)


@FUZZ
@given(
    headers=text_headers,
    url=st.text(max_size=40)
    | st.text("[]:/.ah", max_size=20)
    | st.just("https://orders.azurewebsites.net/api/orders"),
    params=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
    with_token=st.booleans(),
)
def test_azure_random_requests_get_a_well_formed_answer(
    headers: dict[str, str], url: str, params: dict[str, str], with_token: bool
) -> None:
    if with_token:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"} | {"Authorization": GOOD}
    request = func.HttpRequest("GET", url, headers=copy.copy(headers), params=params, body=b"")

    response = azure_function(request)

    if response.status_code == 200:
        assert with_token and response.get_body() == b"alice"
    else:
        assert response.status_code in REJECTIONS
        assert "error" in json.loads(response.get_body())
