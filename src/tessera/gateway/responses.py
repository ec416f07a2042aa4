"""Lambda proxy results turned back into HTTP, and the gateway's own error answers."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GatewayResponse", "gateway_error", "proxy_response"]


@dataclass(frozen=True)
class GatewayResponse:
    """What the gateway sends back: a status, headers (repeatable, in order) and body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    kind: str | None = None  # the API Gateway response type when the gateway itself answered

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


def gateway_error(
    status: int, message: str | None, *, key: str = "message", kind: str | None = None
) -> GatewayResponse:
    """An error API Gateway itself answers with, e.g. ``401 {"message":"Unauthorized"}``."""
    body = json.dumps({key: message}).encode()
    return GatewayResponse(status, [("Content-Type", "application/json")], body, kind)


BAD_GATEWAY = gateway_error(502, "Internal server error")


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _headers(result: Mapping[str, Any], version: str) -> list[tuple[str, str]] | None:
    single = result.get("headers") or {}
    multi = (result.get("multiValueHeaders") or {}) if version == "1.0" else {}
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping):
        return None
    headers: list[tuple[str, str]] = []
    overridden = {str(k).lower() for k in multi}
    for name, value in single.items():
        text = _scalar(value)
        if text is None:
            return None
        if str(name).lower() not in overridden:
            headers.append((str(name), text))
    for name, values in multi.items():
        if not isinstance(values, list):
            return None
        for value in values:
            text = _scalar(value)
            if text is None:
                return None
            headers.append((str(name), text))
    if version == "2.0":
        cookies = result.get("cookies") or []
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            return None
        headers.extend(("Set-Cookie", c) for c in cookies)
    return headers


def _body(result: Mapping[str, Any]) -> bytes | None:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return None
    if result.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return body.encode("utf-8")


def proxy_response(result: Any, payload_version: str) -> GatewayResponse:
    """Translate a handler's return value as API Gateway does; malformed results give 502.

    Payload 2.0 also accepts a result without ``statusCode``: it becomes a 200 JSON response.
    """
    if payload_version == "2.0" and not (isinstance(result, Mapping) and "statusCode" in result):
        try:
            text = json.dumps(result)
        except (TypeError, ValueError):
            return BAD_GATEWAY
        return GatewayResponse(200, [("Content-Type", "application/json")], text.encode())
    if not isinstance(result, Mapping):
        return BAD_GATEWAY
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return BAD_GATEWAY
    headers = _headers(result, payload_version)
    body = _body(result)
    if headers is None or body is None:
        return BAD_GATEWAY
    return GatewayResponse(status, headers, body)
