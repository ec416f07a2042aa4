"""Handlers the gateway tests serve: echo the event, return binary, fail, return a bare value."""

from __future__ import annotations

import base64
import json
from typing import Any


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return the event as JSON, with a multi-value header (payload 1.0) and a cookie (2.0)."""
    response: dict[str, Any] = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Request-Id": context.aws_request_id},
        "body": json.dumps({"event": event, "function": context.function_name}),
        "isBase64Encoded": False,
    }
    if event.get("version") == "2.0":
        response["cookies"] = ["a=1; Path=/", "b=2; HttpOnly"]
    else:
        response["multiValueHeaders"] = {"X-Multi": ["one", "two"]}
    return response


def png(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return the request body back as binary (base64 in the proxy result)."""
    body = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else b"\x89PNG\r\n\x1a\n\x00\xff"
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A payload 2.0 handler that returns a plain object (no statusCode)."""
    return {"hello": event["rawPath"]}


def boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that raises: the gateway must answer 502, like API Gateway."""
    raise RuntimeError("handler exploded")


def malformed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A payload 1.0 handler whose result is not a proxy response."""
    return {"statusCode": "two hundred", "body": 42}


def hang(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that never returns on its own (the runtime's timeout must end it)."""
    import threading

    threading.Event().wait()
    return {"statusCode": 200}
