"""Exports of the route rules: API Gateway HTTP API JWT authorizer and Azure APIM validate-jwt."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tessera import ConfigurationError
from tessera.cli import main
from tessera.protect.exports import apigw_jwt_template, apim_policy
from tessera.protect.routes import parse_routes

ROUTES = {
    "issuer": "https://id.example.com",
    "audience": ["orders-api"],
    "routes": [
        {"method": "GET", "path": "/items", "scopes": ["items:read"]},
        {"method": "DELETE", "path": "/items/{id}", "scopes": ["items:write"]},
        {"method": "ANY", "path": "/files/{proxy+}"},
    ],
}


def test_apigw_jwt_template_has_the_authorizer_and_per_route_scopes() -> None:
    template = apigw_jwt_template(parse_routes(ROUTES))

    resources = template["Resources"]
    authorizer = resources["TesseraJwtAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["JwtConfiguration"] == {"Issuer": "https://id.example.com", "Audience": ["orders-api"]}
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert set(routes) == {"GET /items", "DELETE /items/{id}", "ANY /files/{proxy+}"}
    assert routes["GET /items"]["AuthorizationScopes"] == ["items:read"]
    assert routes["DELETE /items/{id}"]["AuthorizationScopes"] == ["items:write"]
    assert "AuthorizationScopes" not in routes["ANY /files/{proxy+}"]
    assert all(r["AuthorizationType"] == "JWT" for r in routes.values())


@pytest.mark.parametrize(
    "route",
    [
        {"method": "GET", "path": "/a", "scopes": ["x", "y"]},
        {"method": "GET", "path": "/a", "roles": ["admin"]},
    ],
)
def test_apigw_jwt_refuses_what_it_cannot_enforce(route: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        apigw_jwt_template(parse_routes({**ROUTES, "routes": [route]}))
    with pytest.raises(ConfigurationError):
        apigw_jwt_template(parse_routes({"routes": ROUTES["routes"]}))


def test_apim_policy_validates_the_jwt_and_checks_scopes_and_roles() -> None:
    rules = parse_routes(
        {
            **ROUTES,
            "routes": [
                *ROUTES["routes"],
                {"method": "POST", "path": "/admin", "scopes": ["a", "b"], "roles": ["ops", "sre"]},
            ],
        }
    )

    document = ET.fromstring(apim_policy(rules))  # noqa: S314 - our own output

    validate = document.find("inbound/validate-jwt")
    assert validate is not None
    assert validate.get("require-scheme") == "Bearer"
    assert validate.get("failed-validation-httpcode") == "401"
    assert [a.text for a in validate.findall("audiences/audience")] == ["orders-api"]
    assert [i.text for i in validate.findall("issuers/issuer")] == ["https://id.example.com"]
    config = validate.find("openid-config")
    assert (
        config is not None and config.get("url") == "https://id.example.com/.well-known/openid-configuration"
    )
    conditions = [w.get("condition", "") for w in document.findall("inbound/choose/when")]
    assert len(conditions) == 3
    admin = next(c for c in conditions if '"/admin"' in c)
    assert 'context.Request.Method == "POST"' in admin
    assert '" a "' in admin and '" b "' in admin and '" ops "' in admin and '" sre "' in admin
    statuses = [s.get("code") for s in document.findall("inbound/choose/when/return-response/set-status")]
    assert statuses == ["403", "403", "403"]
    assert not any('"/files/{*proxy}"' in c for c in conditions)


def test_cli_exports_both_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes_file = tmp_path / "routes.json"
    routes_file.write_text(json.dumps(ROUTES))

    assert main(["routes", "export", "--format", "apigw-jwt", str(routes_file)]) == 0
    template = json.loads(capsys.readouterr().out)
    assert "TesseraJwtAuthorizer" in template["Resources"]
    assert main(["routes", "export", "--format", "apim", str(routes_file)]) == 0
    assert ET.fromstring(capsys.readouterr().out).tag == "policies"  # noqa: S314 - our own output


def test_cli_reports_unexportable_rules_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes_file = tmp_path / "routes.toml"
    routes_file.write_text(
        'issuer = "https://id.example.com"\naudience = "a"\n'
        '[[routes]]\nmethod = "GET"\npath = "/"\nroles = ["x"]\n'
    )

    assert main(["routes", "export", "--format", "apigw-jwt", str(routes_file)]) == 2
    assert "roles" in capsys.readouterr().err
    assert main(["routes", "export", "--format", "apim", str(tmp_path / "missing.json")]) == 2
