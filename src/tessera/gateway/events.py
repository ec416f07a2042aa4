"""API Gateway proxy events, built from a real HTTP request the way API Gateway builds them.

Payload 1.0 is the REST API (and HTTP API 1.0) proxy event: original header case, the last value
of each header in ``headers`` and all of them in ``multiValueHeaders`` (same for the query
string), ``null`` for absent maps. Payload 2.0 is the HTTP API event: lower-cased header names
with repeated values joined by commas, the Cookie header moved to a ``cookies`` array,
``rawPath``/``rawQueryString``, and absent maps omitted. Bodies that are not text travel base64
encoded with ``isBase64Encoded: true``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import ApiSettings, GatewayRoute
from .request import IncomingRequest, is_text_content_type

__all__ = ["EventContext", "build_event", "method_arn", "request_time"]


@dataclass(frozen=True)
class EventContext:
    """What varies per invocation besides the request: its id, its time and the API identity."""

    api: ApiSettings
    request_id: str
    epoch_seconds: float

    @property
    def epoch_ms(self) -> int:
        """The request time in milliseconds, as ``requestTimeEpoch``/``timeEpoch``."""
        return int(self.epoch_seconds * 1000)

    @property
    def domain_name(self) -> str:
        """The execute-api host name the event pretends to come through."""
        return f"{self.api.api_id}.execute-api.{self.api.region}.amazonaws.com"


def request_time(epoch_seconds: float) -> str:
    """CLF time as API Gateway writes it: ``12/Mar/2020:19:03:58 +0000``."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_seconds))


def method_arn(api: ApiSettings, payload_version: str, method: str, path: str) -> str:
    """The ``methodArn``/``routeArn`` of a call: ``…:{apiId}/{stage}/{METHOD}/{path}``."""
    return f"{api.arn_prefix(payload_version)}/{method.upper()}/{path.lstrip('/')}"


def _encode_body(request: IncomingRequest, binary_types: tuple[str, ...]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    media = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    binary = not is_text_content_type(media) or media in binary_types or "*/*" in binary_types
    if not binary:
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _v1_headers(request: IncomingRequest) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    canonical: dict[str, str] = {}
    pairs = []
    for name, value in request.headers:
        first_spelling = canonical.setdefault(name.lower(), name)
        pairs.append((first_spelling, value))
    single, multi = _single_and_multi(pairs)
    return (single or None), (multi or None)


def _v1_event(
    request: IncomingRequest, route: GatewayRoute, params: Mapping[str, str], ctx: EventContext
) -> dict[str, Any]:
    stage = ctx.api.stage_for("1.0")
    headers, multi_headers = _v1_headers(request)
    query, multi_query = _single_and_multi(request.query)
    body, is_base64 = _encode_body(request, ctx.api.binary_media_types)
    return {
        "resource": route.key.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(params) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ctx.api.account_id,
            "apiId": ctx.api.api_id,
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.api.api_id,
            "extendedRequestId": ctx.request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": request.user_agent,
                "userArn": None,
            },
            "path": f"/{stage}{request.path}",
            "protocol": request.protocol,
            "requestId": ctx.request_id,
            "requestTime": request_time(ctx.epoch_seconds),
            "requestTimeEpoch": ctx.epoch_ms,
            "resourceId": "local",
            "resourcePath": route.key.resource,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def v2_headers(request: IncomingRequest) -> dict[str, str]:
    """Lower-cased header names, repeated values joined by commas, Cookie left out."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


def v2_query(request: IncomingRequest) -> dict[str, str]:
    """Query parameters with repeated values joined by commas."""
    query: dict[str, str] = {}
    for name, value in request.query:
        query[name] = f"{query[name]},{value}" if name in query else value
    return query


def v2_request_context(request: IncomingRequest, route: GatewayRoute, ctx: EventContext) -> dict[str, Any]:
    """The ``requestContext`` of a payload 2.0 event (shared with the HTTP API authorizer event)."""
    return {
        "accountId": ctx.api.account_id,
        "apiId": ctx.api.api_id,
        "domainName": ctx.domain_name,
        "domainPrefix": ctx.api.api_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.user_agent,
        },
        "requestId": ctx.request_id,
        "routeKey": route.key.text,
        "stage": ctx.api.stage_for("2.0"),
        "time": request_time(ctx.epoch_seconds),
        "timeEpoch": ctx.epoch_ms,
    }


def _v2_event(
    request: IncomingRequest, route: GatewayRoute, params: Mapping[str, str], ctx: EventContext
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key.text,
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
        "headers": v2_headers(request),
    }
    if request.cookies:
        event["cookies"] = request.cookies
    query = v2_query(request)
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = dict(params)
    event["requestContext"] = v2_request_context(request, route, ctx)
    body, is_base64 = _encode_body(request, ())
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event


def build_event(
    request: IncomingRequest,
    route: GatewayRoute,
    params: Mapping[str, str],
    ctx: EventContext,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The proxy event for ``route`` (payload 1.0 or 2.0), with the authorizer's output if any.

    ``authorizer`` is what API Gateway puts in ``requestContext.authorizer``: for payload 1.0 the
    ``principalId`` and flattened context, for 2.0 ``{"lambda": context}``.
    """
    build = _v1_event if route.payload_version == "1.0" else _v2_event
    event = build(request, route, params, ctx)
    if authorizer is not None:
        event["requestContext"]["authorizer"] = dict(authorizer)
    return event
