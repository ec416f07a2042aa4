"""An httpx transport that turns each request into an API Gateway HTTP API (payload 2.0) event."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def v2_event(request: httpx.Request) -> dict[str, Any]:
    """The event API Gateway sends a Lambda function for ``request`` (payload format 2.0)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers.multi_items():
        if name.lower() == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif name.lower() in headers:
            headers[name.lower()] += "," + value
        else:
            headers[name.lower()] = value
    headers.setdefault("x-forwarded-for", "198.51.100.7")
    headers["x-forwarded-proto"] = request.url.scheme
    body = request.read()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.url.path,
        "rawQueryString": request.url.query.decode(),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": request.url.host,
            "http": {
                "method": request.method,
                "path": request.url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "07/Dec/2026:07:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body).decode() if body else "",
        "isBase64Encoded": bool(body),
    }
    if cookies:
        event["cookies"] = cookies
    return event


class LambdaTransport(httpx.BaseTransport):
    """Sends each request to ``invoke`` as a v2 event and reads its v2 result back."""

    def __init__(self, invoke: Invoke) -> None:
        self.invoke = invoke
        self.events = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.events += 1
        result = self.invoke(v2_event(request))
        assert "statusCode" in result, result
        headers = list(result.get("headers", {}).items())
        headers.extend(("set-cookie", cookie) for cookie in result.get("cookies", []))
        raw = result.get("body", "")
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        return httpx.Response(result["statusCode"], headers=headers, content=body, request=request)
