"""A FastAPI app on Lambda through Mangum, protected by the ASGI middleware, fed documented events."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from mangum import Mangum

from tessera.protect import Guard, Principal
from tessera.protect.asgi import AuthorizeMiddleware, authorize, get_principal

from .support import Api, bearer, load_event

API = Api()
CONTEXT: Any = SimpleNamespace(
    function_name="orders",
    function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
    memory_limit_in_mb=128,
    aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    log_group_name="/aws/lambda/orders",
    log_stream_name="2026/11/25/[$LATEST]abcdef",
)


def lambda_app() -> Mangum:
    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int, request: Request) -> dict[str, Any]:
        return {"item": item_id, "by": get_principal(request).principal_id}

    @app.get("/decorated/{item_id}")
    @authorize(API.verifier, scopes=["orders:read"])
    async def decorated(item_id: int, principal: Principal) -> dict[str, Any]:
        return {"item": item_id, "by": principal.principal_id}

    protected = AuthorizeMiddleware(app, guard=Guard(API.verifier, scopes=["orders:write"]))
    return Mangum(protected, lifespan="off")


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    """Run the Mangum handler as the Lambda runtime would, on an event loop closed afterwards."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        result: dict[str, Any] = lambda_app()(event, CONTEXT)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return result


@pytest.mark.parametrize("shape", ["http_v2", "rest_v1", "alb_multi"])
@pytest.mark.parametrize(
    ("kind", "status"),
    [("good", 200), ("missing", 401), ("expired", 401), ("wrong_audience", 401), ("read_only", 403)],
)
def test_fastapi_on_mangum(shape: str, kind: str, status: int) -> None:
    tokens = {
        "good": API.token,
        "expired": API.expired,
        "wrong_audience": API.wrong_audience,
        "read_only": API.read_only,
    }
    event = load_event(shape)
    if kind in tokens:
        value = bearer(tokens[kind]())
        if shape == "http_v2":
            event["headers"]["authorization"] = value
        else:
            event.setdefault("multiValueHeaders", {})["Authorization"] = [value]
            if "headers" in event:
                event["headers"]["Authorization"] = value

    result = invoke(event)

    assert result["statusCode"] == status
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    headers.update({k.lower(): ", ".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()})
    if status == 200:
        assert json.loads(result["body"]) == {"item": 42, "by": "alice"}
    else:
        assert headers["www-authenticate"].startswith('Bearer realm="tessera"')
        assert headers["cache-control"] == "no-store"


def test_endpoint_decorator_through_mangum() -> None:
    event = load_event("http_v2")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/decorated/42"
    event["headers"]["authorization"] = bearer(API.token())

    result = invoke(event)

    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"item": 42, "by": "alice"}
