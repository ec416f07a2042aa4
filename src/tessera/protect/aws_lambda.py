"""AWS Lambda behind API Gateway (REST v1, HTTP API v2), an ALB, or a Function URL.

The shape is recognised from the event itself: ``version: "2.0"`` (HTTP API payload 2.0 and
Function URLs: lower-case headers joined by commas, a ``cookies`` array, ``rawQueryString``),
``requestContext.elb`` (ALB, with ``headers`` or ``multiValueHeaders``; query values arrive
percent-encoded), otherwise REST payload 1.0 (``headers`` and ``multiValueHeaders``). A
protected handler receives the principal as a third argument::

    @authorize(verifier, scopes=["orders:read"])
    def handler(event: dict, context: object, principal: Principal) -> dict:
        return {"statusCode": 200, "body": principal.principal_id}

An ``async def`` handler is run to completion with :func:`asyncio.run` (the Lambda Python
runtime calls handlers synchronously).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

from ..errors import Reason, TokenError
from .decorator import Authorize, Platform, authorize_for
from .http import EMPTY_QUERY, Headers, HttpRequest, HttpResponse, MultiMap, parse_query
from .principal import Principal

__all__ = [
    "EventShape",
    "authorize",
    "authorizer_context",
    "event_shape",
    "request_from_event",
    "to_lambda_response",
]

LambdaHandler = Callable[[Any, Any, Principal], Any]
"""``handler(event, context, principal)``; an ``async def`` one is accepted too."""
LambdaEntryPoint = Callable[[Any, Any], Any]


class EventShape(Enum):
    """Which proxy payload format an event follows."""

    REST_V1 = "rest-v1"
    HTTP_V2 = "http-v2"
    ALB = "alb"


def _bad() -> TokenError:
    return TokenError(Reason.INVALID_REQUEST)


def _mapping(event: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = event.get(name)
    if value is None:
        return {}
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _bad()
    return value


def _string(value: Any, default: str | None = None) -> str:
    if isinstance(value, str):
        return value
    if value is None and default is not None:
        return default
    raise _bad()


def _pairs(single: Mapping[str, Any], multi: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Name/value pairs, preferring the multi-value map for the names it has."""
    pairs: list[tuple[str, str]] = []
    covered: set[str] = set()
    for name, values in multi.items():
        if not isinstance(values, list):
            raise _bad()
        pairs.extend((_string(name), _string(v)) for v in values)
        covered.add(str(name).lower())
    for name, value in single.items():
        if _string(name).lower() not in covered:
            pairs.append((name, _string(value)))
    return pairs


def event_shape(event: Any) -> EventShape:
    """The payload format of ``event``; raise TokenError (400) when it is none of them."""
    if type(event) is not dict and not isinstance(event, Mapping):
        raise _bad()
    if event.get("version") == "2.0":
        return EventShape.HTTP_V2
    if "elb" in _mapping(event, "requestContext"):
        return EventShape.ALB
    if "httpMethod" in event:
        return EventShape.REST_V1
    raise _bad()


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    text = _string(body)
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _bad() from None
    return text.encode("utf-8", "surrogatepass")


def _v2_request(event: Mapping[str, Any]) -> HttpRequest:
    """Payload 2.0: single values under lower-case header names, a ``cookies`` array, the raw
    query string."""
    context = event.get("requestContext")
    http = context.get("http") if type(context) is dict else None
    if type(http) is not dict:
        http = _mapping(_mapping(event, "requestContext"), "http")
    method, path = http.get("method"), event.get("rawPath", http.get("path"))
    query, given, cookies = event.get("rawQueryString"), event.get("headers"), event.get("cookies")
    if type(given) is not dict:
        given = _mapping(event, "headers")
    if not (isinstance(method, str) and isinstance(path, str) and (query is None or isinstance(query, str))):
        raise _bad()
    try:  # join refuses anything but str, at C speed
        names = "".join(given)
        "".join(given.values())
    except TypeError:
        raise _bad() from None
    if cookies:
        if not isinstance(cookies, list):
            raise _bad()
        headers = Headers([*given.items(), ("cookie", "; ".join(_string(c) for c in cookies))])
    elif type(given) is dict and names.isascii() and names.lower() == names:
        headers = Headers.from_lowercase(given)
    else:
        headers = Headers(given.items())
    body = b"" if event.get("body") is None else _body(event)
    return HttpRequest(method, path, headers, parse_query(query) if query else EMPTY_QUERY, body)


def request_from_event(event: Any) -> HttpRequest:
    """The :class:`HttpRequest` an API Gateway, ALB or Function URL event describes."""
    if type(event) is dict and event.get("version") == "2.0":
        return _v2_request(event)
    shape = event_shape(event)
    if shape is EventShape.HTTP_V2:
        return _v2_request(event)
    headers = _pairs(_mapping(event, "headers"), _mapping(event, "multiValueHeaders"))
    query = _pairs(
        _mapping(event, "queryStringParameters"), _mapping(event, "multiValueQueryStringParameters")
    )
    if shape is EventShape.ALB:
        query = [(unquote_plus(k), unquote_plus(v)) for k, v in query]
    method = _string(event.get("httpMethod"))
    path = _string(event.get("path"))
    return HttpRequest(method, path, Headers(headers), MultiMap(query), _body(event))


def authorizer_context(event: Any) -> Mapping[str, Any]:
    """What a Lambda authorizer put in ``context``, as API Gateway hands it to the backend.

    REST (payload 1.0) puts it in ``requestContext.authorizer`` (with ``principalId``); HTTP API
    payload 2.0 in ``requestContext.authorizer.lambda``. Read identity from here only, never
    from client-supplied headers such as ``X-User-Id`` (LAM-07). Empty when there is none.
    """
    if not isinstance(event, Mapping):
        return {}
    authorizer = event.get("requestContext", {}) if isinstance(event.get("requestContext"), Mapping) else {}
    found = authorizer.get("authorizer")
    if not isinstance(found, Mapping):
        return {}
    if event.get("version") == "2.0":
        found = found.get("lambda")
    return found if isinstance(found, Mapping) else {}


def to_lambda_response(response: HttpResponse, event: Any) -> dict[str, Any]:
    """``response`` in the result format the event's integration expects."""
    try:
        shape = event_shape(event)
    except TokenError:
        shape = EventShape.REST_V1
    body = response.body.decode("utf-8")
    result: dict[str, Any] = {"statusCode": response.status}
    multi = (
        shape is not EventShape.HTTP_V2
        and isinstance(event, Mapping)
        and isinstance(event.get("multiValueHeaders"), Mapping)
    )
    if shape is EventShape.ALB:
        result["statusDescription"] = f"{response.status} {HTTPStatus(response.status).phrase}"
    if multi:
        grouped: dict[str, list[str]] = {}
        for name, value in response.headers:
            grouped.setdefault(name, []).append(value)
        result["multiValueHeaders"] = grouped
    else:
        result["headers"] = _joined(response.headers)
    result["body"] = body
    result["isBase64Encoded"] = False
    return result


def _joined(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def _with_cors(result: Any, extra: tuple[tuple[str, str], ...]) -> Any:
    if not extra or not isinstance(result, dict) or "statusCode" not in result:
        return result
    result = dict(result)
    if isinstance(result.get("multiValueHeaders"), dict):
        merged_multi = {k: list(v) for k, v in result["multiValueHeaders"].items()}
        for name, value in extra:
            merged_multi.setdefault(name, []).append(value)
        result["multiValueHeaders"] = merged_multi
    else:
        merged = dict(result.get("headers") or {})
        merged.update(_joined(extra))
        result["headers"] = merged
    return result


def _request(event: Any, context: Any) -> HttpRequest:
    return request_from_event(event)


def _respond(response: HttpResponse, event: Any, context: Any) -> Any:
    return to_lambda_response(response, event)


authorize: Authorize[Callable[[LambdaHandler], LambdaEntryPoint]] = authorize_for(
    Platform(request=_request, respond=_respond, add_cors=_with_cors, arity=2),
    module=__name__,
    doc="Protect ``handler(event, context, principal)``; rejections become proxy responses.",
)
