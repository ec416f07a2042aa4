"""REST API gateway responses: WWW-Authenticate on the authorizer's 401/403, templates, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.errors import ConfigurationError
from tessera.gateway.config import gateway_config_from_mapping

from .conftest import ServeGateway
from .http_client import send
from .test_authorizer_cache import _rest

RESPONSES = {
    "UNAUTHORIZED": {"headers": {"WWW-Authenticate": "'Bearer realm=\"orders\"'"}},
    "ACCESS_DENIED": {
        "headers": {
            "WWW-Authenticate": '\'Bearer realm="orders", error="insufficient_scope"\'',
            "X-Echo": "method.request.header.X-Trace",
        },
        "body": '{"message": $context.error.messageString, "who": "$context.authorizer.principalId"}',
    },
}


def test_configured_401_and_403_carry_www_authenticate(serve_gateway: ServeGateway) -> None:
    document = _rest("exact_arn", 0)
    document["gateway"]["responses"] = RESPONSES
    server = serve_gateway(document)
    missing = send("GET", f"{server.url}/items")
    assert missing.status == 401
    assert missing.header("WWW-Authenticate") == 'Bearer realm="orders"'
    assert missing.json() == {"message": "Unauthorized"}
    denied = send(
        "DELETE", f"{server.url}/items/1", headers={"Authorization": "Bearer reader", "X-Trace": "t1"}
    )
    assert denied.status == 403
    assert denied.header("WWW-Authenticate") == 'Bearer realm="orders", error="insufficient_scope"'
    assert denied.header("X-Echo") == "t1"
    assert denied.json() == {
        "message": "User is not authorized to access this resource with an explicit deny",
        "who": "reader",
    }
    allowed = send("GET", f"{server.url}/items", headers={"Authorization": "Bearer reader"})
    assert allowed.status == 200 and allowed.header("WWW-Authenticate") is None


def test_without_settings_api_gateway_sends_no_www_authenticate(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_rest("exact_arn", 0))
    reply = send("GET", f"{server.url}/items")
    assert reply.status == 401 and reply.header("WWW-Authenticate") is None


@pytest.mark.parametrize(
    "responses",
    [
        {"NOT_A_TYPE": {}},
        {"UNAUTHORIZED": {"headers": {"WWW-Authenticate": "Bearer unquoted"}}},
        {"UNAUTHORIZED": {"status": "401"}},
        {"UNAUTHORIZED": {"body": 5}},
    ],
)
def test_bad_gateway_response_settings_are_configuration_errors(responses: object) -> None:
    document = _rest("exact_arn", 0)
    document["gateway"]["responses"] = responses
    with pytest.raises(ConfigurationError):
        gateway_config_from_mapping(document, Path("."))
