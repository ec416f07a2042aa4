"""The gateway's reading of a routes file: defaults, overrides and clear configuration errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tessera.errors import ConfigurationError
from tessera.gateway import load_gateway_config
from tessera.gateway.config import gateway_config_from_mapping
from tessera.gateway.routing import RouteKey
from tessera.protect.routes import load_routes

TOML = """
issuer = "https://id.example.com"
audience = "orders-api"

[[routes]]
method = "GET"
path = "/orders/{id}"
scopes = ["orders:read"]
handler = "orders:get_order"

[[routes]]
method = "DELETE"
path = "/orders/{id}"
scopes = ["orders:write"]
handler = "orders:delete_order"

[gateway]
payload_version = "1.0"
authorizer = "bearer"

[gateway.authorizers.bearer]
handler = "authorizer:handler"
ttl_seconds = 60

[[gateway.routes]]
route = "GET /health"
handler = "orders:health"
payload_version = "2.0"
authorizer = "none"
"""


def test_routes_file_rules_become_routes_with_gateway_defaults(tmp_path: Path) -> None:
    file = tmp_path / "routes.toml"
    file.write_text(TOML)
    config = load_gateway_config(file)
    assert config.base_dir == tmp_path.resolve()
    by_key = {r.key.text: r for r in config.routes}
    assert set(by_key) == {"GET /orders/{id}", "DELETE /orders/{id}", "GET /health"}
    get = by_key["GET /orders/{id}"]
    assert get.handler == "orders:get_order" and get.payload_version == "1.0"
    assert get.authorizer is not None and get.authorizer.type == "TOKEN" and get.authorizer.ttl_seconds == 60
    health = by_key["GET /health"]
    assert health.authorizer is None and health.payload_version == "2.0"
    found = config.match("DELETE", "/orders/9")
    assert found is not None and found[0].handler == "orders:delete_order" and found[1] == {"id": "9"}


@pytest.mark.parametrize("name", ["routes.toml", "ROUTES.TOML"])
def test_the_gateway_and_protect_read_a_routes_file_alike(tmp_path: Path, name: str) -> None:
    file = tmp_path / name
    file.write_text(TOML)
    assert {r.key.text for r in load_gateway_config(file).routes} >= {"GET /orders/{id}"}
    assert len(load_routes(file).routes) == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("[[routes]\n")
    for loader in (load_gateway_config, load_routes):
        with pytest.raises(ConfigurationError, match="is not valid"):
            loader(broken)


def test_more_specific_routes_win() -> None:
    document = {
        "gateway": {
            "routes": [
                {"route": "$default", "handler": "m:default"},
                {"route": "ANY /{proxy+}", "handler": "m:greedy"},
                {"route": "GET /items/{id}", "handler": "m:param"},
                {"route": "GET /items/special", "handler": "m:literal"},
                {"route": "ANY /items/{id}", "handler": "m:any"},
            ]
        }
    }
    config = gateway_config_from_mapping(document, Path("."))

    def served(method: str, path: str) -> str:
        found = config.match(method, path)
        assert found is not None
        return found[0].handler

    assert served("GET", "/items/special") == "m:literal"
    assert served("GET", "/items/1") == "m:param"
    assert served("PUT", "/items/1") == "m:any"
    assert served("PUT", "/a/b/c") == "m:greedy"
    assert served("GET", "/") == "m:default"


ONE = {"routes": [{"route": "GET /x", "handler": "m:f"}]}


def test_a_minimal_gateway_section_is_valid() -> None:
    assert len(gateway_config_from_mapping({"gateway": ONE}, Path(".")).routes) == 1


@pytest.mark.parametrize(
    "gateway",
    [
        {"routes": [{"route": "GET /x", "handler": "no-colon"}]},
        {"routes": [{"route": "FETCH /x", "handler": "m:f"}]},
        {"routes": [{"route": "GET /x/{a+}/y", "handler": "m:f"}]},
        {"routes": [{"route": "GET /x", "handler": "m:f", "payload_version": "3.0"}]},
        {"routes": [{"route": "GET /x", "handler": "m:f", "authorizer": "missing"}]},
        {
            "authorizers": {"a": {"handler": "m:a", "type": "HTTP"}},
            "routes": [{"route": "GET /x", "handler": "m:f", "authorizer": "a", "payload_version": "1.0"}],
        },
        {"authorizers": {"a": {"handler": "m:a", "type": "TOKEN", "identity_sources": ["a", "b"]}}, **ONE},
        {"authorizers": {"a": {"handler": "m:a", "ttl_seconds": 4000}}, **ONE},
        {"authorizers": {"a": {"handler": "m:a", "simple_responses": True}}, **ONE},
        {"authorizers": {"a": {"handler": "m:a", "type": "JWT"}}, **ONE},
        {"routes": []},
        {"payload": "2.0", **ONE},
        {"routes": [{"route": "GET /x", "handler": "m:f", "authoriser": "a"}]},
        {"authorizers": {"a": {"handler": "m:a", "ttl": 5}}, **ONE},
    ],
)
def test_bad_gateway_settings_are_configuration_errors(gateway: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        gateway_config_from_mapping({"gateway": gateway}, Path("."))


def test_route_keys_render_as_api_gateway_spells_them() -> None:
    assert RouteKey.parse("get /items/{id}").text == "GET /items/{id}"
    assert RouteKey.parse("$default").text == "$default"
    assert RouteKey.parse("ANY /{proxy+}").resource == "/{proxy+}"


def test_route_rules_are_checked_by_the_protect_loader() -> None:
    rule = {"method": "GET", "path": "/x", "scopes": ["a"], "handler": "m:f"}
    assert len(gateway_config_from_mapping({"routes": [rule]}, Path(".")).routes) == 1
    typo = {"method": "GET", "path": "/x", "scope": ["a"], "handler": "m:f"}
    with pytest.raises(ConfigurationError):
        gateway_config_from_mapping({"routes": [typo]}, Path("."))
    with pytest.raises(ConfigurationError):
        gateway_config_from_mapping({"routes": [rule], "gatway": {}}, Path("."))
