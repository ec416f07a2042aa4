"""Route rules and the ROUTES_FILE loader (JSON and TOML)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tessera import ConfigurationError
from tessera.protect.routes import Route, RouteRules, load_routes, parse_routes

TOML = """
issuer = "https://id.example.com"
audience = "orders-api"

[gateway]
payload = "2.0"

[[routes]]
method = "GET"
path = "/items"
scopes = ["items:read"]
handler = "app:list_items"

[[routes]]
method = "GET"
path = "/items/{id}"
scopes = ["items:read"]

[[routes]]
method = "DELETE"
path = "/items/{id}"
scopes = ["items:write"]
roles = ["admin"]

[[routes]]
method = "ANY"
path = "/files/{proxy+}"
scopes = ["files"]
"""


def test_toml_and_json_files_load_to_the_same_rules(tmp_path: Path) -> None:
    toml_file = tmp_path / "routes.toml"
    toml_file.write_text(TOML)
    rules = load_routes(toml_file)
    json_file = tmp_path / "routes.json"
    json_file.write_text(
        json.dumps(
            {
                "issuer": rules.issuer,
                "audience": list(rules.audience),
                "gateway": dict(rules.gateway),
                "routes": [
                    {"method": r.method, "path": r.path, "scopes": list(r.scopes), "roles": list(r.roles)}
                    | ({"handler": r.handler} if r.handler else {})
                    for r in rules.routes
                ],
            }
        )
    )

    assert load_routes(json_file) == rules
    assert rules.issuer == "https://id.example.com"
    assert rules.audience == ("orders-api",)
    assert rules.gateway["payload"] == "2.0"
    assert rules.match("GET", "/items") == Route("GET", "/items", ("items:read",), handler="app:list_items")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/items", "GET /items"),
        ("get", "/items/42", "GET /items/{id}"),
        ("DELETE", "/items/42", "DELETE /items/{id}"),
        ("PUT", "/items/42", None),
        ("GET", "/items/42/extra", None),
        ("GET", "/items/", None),
        ("POST", "/files/a/b/c", "ANY /files/{proxy+}"),
        ("GET", "/files", None),
        ("GET", "/files/", None),
        ("GET", "/unknown", None),
    ],
)
def test_matching_picks_the_rule_or_none(method: str, path: str, expected: str | None) -> None:
    rules = parse_routes(tomllib.loads(TOML))

    found = rules.match(method, path)

    assert (found.route_key if found else None) == expected


def test_most_specific_rule_wins_whatever_the_declaration_order() -> None:
    rules = RouteRules(
        (
            Route("ANY", "/{proxy+}", ("any",)),
            Route("ANY", "/items/{id}", ("item",)),
            Route("GET", "/items/special", ("special",)),
            Route("GET", "/items/{id}", ("get-item",)),
        )
    )

    def scopes(path: str, method: str = "GET") -> tuple[str, ...]:
        route = rules.match(method, path)
        return route.scopes if route else ()

    assert scopes("/items/special") == ("special",)
    assert scopes("/items/7") == ("get-item",)
    assert scopes("/items/7", "POST") == ("item",)
    assert scopes("/other/deep/path") == ("any",)


def test_allowed_lists_the_routes_a_caller_may_use() -> None:
    rules = parse_routes(tomllib.loads(TOML))

    reader = {r.route_key for r in rules.allowed({"items:read"}, set())}
    writer_without_role = {r.route_key for r in rules.allowed({"items:read", "items:write"}, set())}
    admin = {r.route_key for r in rules.allowed({"items:read", "items:write"}, {"admin"})}

    assert reader == {"GET /items", "GET /items/{id}"}
    assert writer_without_role == reader
    assert admin == reader | {"DELETE /items/{id}"}


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"routes": []},
        {"routes": [{"method": "FETCH", "path": "/"}]},
        {"routes": [{"method": "GET", "path": "items"}]},
        {"routes": [{"method": "GET", "path": "/a//b"}]},
        {"routes": [{"method": "GET", "path": "/{proxy+}/tail"}]},
        {"routes": [{"method": "GET", "path": "/items/*"}]},
        {"routes": [{"method": "GET", "path": "/items", "scopes": "items:read"}]},
        {"routes": [{"method": "GET", "path": "/items", "scope": ["x"]}]},
        {"routes": [{"method": "GET", "path": "/a/{x}"}, {"method": "GET", "path": "/a/{y}"}]},
        {"issuer": "", "routes": [{"method": "GET", "path": "/"}]},
        {"colour": "blue", "routes": [{"method": "GET", "path": "/"}]},
    ],
)
def test_invalid_documents_are_configuration_errors(document: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        parse_routes(document)


def test_unreadable_files_are_configuration_errors(tmp_path: Path) -> None:
    broken = tmp_path / "routes.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigurationError):
        load_routes(broken)
    with pytest.raises(ConfigurationError):
        load_routes(tmp_path / "missing.toml")
