"""Lambda@Edge, CloudFront viewer-request: answer 401/403 at the edge or forward the request.

Lambda@Edge functions have no environment variables and should not fetch keys on the request
path: give the verifier a bundled JWKS (``Verifier(..., jwks="jwks.json")``, from
``tessera jwks fetch``). Either use the ready-made handler::

    handler = viewer_request(verifier, scopes=["media:read"])

or decorate your own, which receives the principal and returns the (possibly changed) request
or a response object::

    @authorize(verifier, scopes=["media:read"])
    def handler(event: dict, context: object, principal: Principal) -> dict:
        return event["Records"][0]["cf"]["request"]
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Unpack

from ..errors import Reason, TokenError
from .decorator import Authorize, Platform, authorize_for
from .guard import GuardOptions, TokenVerifier, with_guard_signature
from .http import Headers, HttpRequest, HttpResponse, parse_query
from .principal import Principal

__all__ = [
    "authorize",
    "cloudfront_request",
    "request_from_cloudfront",
    "to_cloudfront_response",
    "viewer_request",
]

EdgeHandler = Callable[[Any, Any, Principal], Any]
EdgeEntryPoint = Callable[[Any, Any], Any]


def cloudfront_request(event: Any) -> Mapping[str, Any]:
    """The ``Records[0].cf.request`` object of a CloudFront event; TokenError (400) if absent."""
    try:
        request = event["Records"][0]["cf"]["request"]
    except (KeyError, IndexError, TypeError):
        raise TokenError(Reason.INVALID_REQUEST) from None
    if not isinstance(request, Mapping):
        raise TokenError(Reason.INVALID_REQUEST)
    return request


def request_from_cloudfront(request: Mapping[str, Any]) -> HttpRequest:
    """The :class:`HttpRequest` of a CloudFront request object (headers as lists of key/value)."""
    pairs: list[tuple[str, str]] = []
    headers = request.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise TokenError(Reason.INVALID_REQUEST)
    for name, entries in headers.items():
        if not isinstance(entries, list):
            raise TokenError(Reason.INVALID_REQUEST)
        for entry in entries:
            value = entry.get("value") if isinstance(entry, Mapping) else None
            if not isinstance(value, str):
                raise TokenError(Reason.INVALID_REQUEST)
            pairs.append((str(name), value))
    method, uri, querystring = request.get("method"), request.get("uri"), request.get("querystring", "")
    if not isinstance(method, str) or not isinstance(uri, str) or not isinstance(querystring, str):
        raise TokenError(Reason.INVALID_REQUEST)
    return HttpRequest(method, uri, Headers(pairs), parse_query(querystring), _body(request))


def _body(request: Mapping[str, Any]) -> bytes:
    body = request.get("body")
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), str):
        return b""
    if body.get("encoding") == "base64":
        try:
            return base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            raise TokenError(Reason.INVALID_REQUEST) from None
    return str(body["data"]).encode()


def to_cloudfront_response(response: HttpResponse) -> dict[str, Any]:
    """``response`` as a CloudFront generated-response object."""
    headers: dict[str, list[dict[str, str]]] = {}
    for name, value in response.headers:
        headers.setdefault(name.lower(), []).append({"key": name, "value": value})
    return {
        "status": str(response.status),
        "statusDescription": HTTPStatus(response.status).phrase,
        "headers": headers,
        "body": response.body.decode("utf-8"),
        "bodyEncoding": "text",
    }


def _request(event: Any, context: Any) -> HttpRequest:
    return request_from_cloudfront(cloudfront_request(event))


def _respond(response: HttpResponse, event: Any, context: Any) -> Any:
    return to_cloudfront_response(response)


authorize: Authorize[Callable[[EdgeHandler], EdgeEntryPoint]] = authorize_for(
    Platform(request=_request, respond=_respond, arity=2),
    module=__name__,
    doc="Protect a viewer-request ``handler(event, context, principal)``.",
)


@with_guard_signature
def viewer_request(verifier: TokenVerifier, **options: Unpack[GuardOptions]) -> EdgeEntryPoint:
    """A complete viewer-request handler: forward allowed requests unchanged, answer the rest.

    The keywords are :class:`~tessera.protect.Guard`'s, as for :func:`authorize`.
    """

    def forward(event: Any, context: Any, principal: Principal) -> Any:
        return event["Records"][0]["cf"]["request"]

    return authorize(verifier, **options)(forward)
