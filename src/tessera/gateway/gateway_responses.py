"""REST API gateway responses: how API Gateway's own errors (401, 403, 5xx) can be customised.

A REST API may set, per response type, a status code, headers (a static value in single quotes
or a request header ``method.request.header.NAME``) and a body template in which
``$context.error.messageString``, ``$context.error.responseType`` and
``$context.authorizer.KEY`` are replaced. This is how a deployment adds
``WWW-Authenticate`` to the authorizer's 401 and 403; the gateway applies the same settings::

    [gateway.responses.UNAUTHORIZED]
    headers = { "WWW-Authenticate" = "'Bearer realm=\\"orders\\"'" }

HTTP APIs have no gateway responses; these apply to payload 1.0 routes only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from .request import IncomingRequest
from .responses import GatewayResponse

__all__ = ["GatewayResponseSettings", "customise", "parse_gateway_responses"]

RESPONSE_TYPES = frozenset(
    {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "AUTHORIZER_FAILURE",
        "AUTHORIZER_CONFIGURATION_ERROR",
        "MISSING_AUTHENTICATION_TOKEN",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
)
_VARIABLE = re.compile(r"\$context\.(error\.messageString|error\.responseType|authorizer\.[A-Za-z0-9_]+)")


@dataclass(frozen=True)
class GatewayResponseSettings:
    """The customisation of one response type."""

    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: str | None


def parse_gateway_responses(raw: Any) -> dict[str, GatewayResponseSettings]:
    """Read ``gateway.responses``; raises ConfigurationError for an unknown type or bad value."""
    if not isinstance(raw, Mapping):
        raise ConfigurationError("gateway.responses must be a table of response types")
    settings = {}
    for kind, entry in raw.items():
        where = f"gateway.responses.{kind}"
        if kind not in RESPONSE_TYPES or not isinstance(entry, Mapping):
            raise ConfigurationError(f"{where}: not a supported gateway response type")
        status = entry.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise ConfigurationError(f"{where}: status must be an integer")
        headers = entry.get("headers", {})
        if not isinstance(headers, Mapping) or not all(
            isinstance(v, str) and (_is_static(v) or v.startswith("method.request.header."))
            for v in headers.values()
        ):
            raise ConfigurationError(f"{where}: header values are 'static' or method.request.header.NAME")
        body = entry.get("body")
        if body is not None and not isinstance(body, str):
            raise ConfigurationError(f"{where}: body must be a string template")
        settings[kind] = GatewayResponseSettings(status, tuple((str(k), v) for k, v in headers.items()), body)
    return settings


def _is_static(value: str) -> bool:
    return len(value) >= 2 and value.startswith("'") and value.endswith("'")


def _header_value(mapping: str, request: IncomingRequest) -> str | None:
    if _is_static(mapping):
        return mapping[1:-1]
    return request.header(mapping.removeprefix("method.request.header."))


def customise(
    response: GatewayResponse,
    settings: Mapping[str, GatewayResponseSettings],
    request: IncomingRequest,
    authorizer_context: Mapping[str, Any] | None,
) -> GatewayResponse:
    """Apply the settings for ``response.kind`` (or DEFAULT_4XX/5XX) to one of the gateway's errors."""
    if response.kind is None:
        return response
    fallback = "DEFAULT_4XX" if response.status < 500 else "DEFAULT_5XX"
    chosen = settings.get(response.kind) or settings.get(fallback)
    if chosen is None:
        return response
    headers = list(response.headers)
    for name, mapping in chosen.headers:
        value = _header_value(mapping, request)
        if value is not None:
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
            headers.append((name, value))
    body = response.body
    if chosen.body is not None:
        message = _message(response.body)
        context = {k: str(v) for k, v in (authorizer_context or {}).items()}

        def substitute(found: re.Match[str]) -> str:
            name = found.group(1)
            if name == "error.messageString":
                return json.dumps(message)
            if name == "error.responseType":
                return str(response.kind)
            return context.get(name.removeprefix("authorizer."), "")

        body = _VARIABLE.sub(substitute, chosen.body).encode()
    return GatewayResponse(chosen.status or response.status, headers, body, response.kind)


def _message(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    value = document.get("message", document.get("Message"))
    return value if isinstance(value, str) else None
