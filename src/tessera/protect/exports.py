"""The route rules as gateway configuration, for teams that want tokens checked before the function.

- :func:`apigw_jwt_template`: an API Gateway HTTP API JWT authorizer and one route per rule with
  its ``AuthorizationScopes``, as CloudFormation/SAM resources (``AWS::ApiGatewayV2::Authorizer``
  and ``AWS::ApiGatewayV2::Route``; add each route's ``Target`` integration).
- :func:`apim_policy`: an Azure API Management policy with ``validate-jwt`` and a per-operation
  scope/role check answering 403.

Both refuse what the gateway cannot express faithfully rather than export something weaker:
the HTTP API JWT authorizer accepts a token holding *any one* of a route's scopes, so a rule
needing two scopes (all-of) or a role cannot be exported there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ..errors import ConfigurationError
from .routes import Route, RouteRules

__all__ = ["apigw_jwt_template", "apim_policy"]

_JWT_VARIABLE = "tessera-jwt"


def _issuer_and_audience(rules: RouteRules) -> tuple[str, list[str]]:
    if rules.issuer is None or not rules.audience:
        raise ConfigurationError("exporting needs 'issuer' and 'audience' in the routes file")
    return rules.issuer, list(rules.audience)


def _resource_name(index: int, route: Route) -> str:
    words = [s.strip("{}+").capitalize() for s in route.segments] or ["Root"]
    name = "".join(ch for ch in "".join(words) if ch.isalnum())
    return f"Route{index}{route.method.capitalize()}{name}"[:255]


def apigw_jwt_template(rules: RouteRules, *, api_ref: str = "HttpApi") -> dict[str, Any]:
    """CloudFormation ``Resources`` for an HTTP API JWT authorizer and the rules' routes."""
    issuer, audience = _issuer_and_audience(rules)
    resources: dict[str, Any] = {
        "TesseraJwtAuthorizer": {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": {"Ref": api_ref},
                "AuthorizerType": "JWT",
                "Name": "tessera-jwt",
                "IdentitySource": ["$request.header.Authorization"],
                "JwtConfiguration": {"Issuer": issuer, "Audience": audience},
            },
        }
    }
    for index, route in enumerate(rules.routes, start=1):
        if route.roles:
            raise ConfigurationError(f"{route.route_key}: the JWT authorizer cannot check roles")
        if len(route.scopes) > 1:
            raise ConfigurationError(
                f"{route.route_key}: the JWT authorizer accepts any one of a route's scopes, not all of them"
            )
        properties: dict[str, Any] = {
            "ApiId": {"Ref": api_ref},
            "RouteKey": route.route_key,
            "AuthorizationType": "JWT",
            "AuthorizerId": {"Ref": "TesseraJwtAuthorizer"},
        }
        if route.scopes:
            properties["AuthorizationScopes"] = list(route.scopes)
        resources[_resource_name(index, route)] = {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": properties,
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _apim_template(route: Route) -> str:
    return "/" + "/".join("{*" + s[1:-2] + "}" if s.endswith("+}") else s for s in route.segments)


def _csharp_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _claim_words(claim_names: tuple[str, ...]) -> str:
    lookups = " : ".join(
        f"jwt.Claims.ContainsKey({_csharp_string(n)}) ? jwt.Claims[{_csharp_string(n)}]" for n in claim_names
    )
    return (
        f'@{{ var jwt = (Jwt)context.Variables["{_JWT_VARIABLE}"]; '
        f"var values = {lookups} : new string[0]; "
        'return " " + string.Join(" ", values) + " "; }'
    )


def _denied_condition(route: Route) -> str:
    checks = []
    if route.method != "ANY":
        checks.append(f"context.Request.Method == {_csharp_string(route.method)}")
    checks.append(f"context.Operation.UrlTemplate == {_csharp_string(_apim_template(route))}")
    needs = [
        f'((string)context.Variables["tessera-scopes"]).Contains({_csharp_string(" " + s + " ")})'
        for s in route.scopes
    ]
    if route.roles:
        any_role = " || ".join(
            f'((string)context.Variables["tessera-roles"]).Contains({_csharp_string(" " + r + " ")})'
            for r in route.roles
        )
        needs.append(f"({any_role})")
    return "@(" + " && ".join(checks) + " && !(" + " && ".join(needs) + "))"


def apim_policy(rules: RouteRules, *, roles_claim: str = "roles", realm: str = "tessera") -> str:
    """An Azure API Management policy document (XML) enforcing the rules."""
    issuer, audience = _issuer_and_audience(rules)
    policies = ET.Element("policies")
    inbound = ET.SubElement(policies, "inbound")
    ET.SubElement(inbound, "base")
    validate = ET.SubElement(
        inbound,
        "validate-jwt",
        {
            "header-name": "Authorization",
            "require-scheme": "Bearer",
            "failed-validation-httpcode": "401",
            "failed-validation-error-message": "Unauthorized",
            "require-expiration-time": "true",
            "require-signed-tokens": "true",
            "output-token-variable-name": _JWT_VARIABLE,
        },
    )
    ET.SubElement(
        validate, "openid-config", {"url": f"{issuer.rstrip('/')}/.well-known/openid-configuration"}
    )
    audiences = ET.SubElement(validate, "audiences")
    for value in audience:
        ET.SubElement(audiences, "audience").text = value
    ET.SubElement(ET.SubElement(validate, "issuers"), "issuer").text = issuer
    ET.SubElement(
        inbound, "set-variable", {"name": "tessera-scopes", "value": _claim_words(("scope", "scp"))}
    )
    ET.SubElement(inbound, "set-variable", {"name": "tessera-roles", "value": _claim_words((roles_claim,))})
    choose = ET.SubElement(inbound, "choose")
    for route in rules.routes:
        if not route.scopes and not route.roles:
            continue
        when = ET.SubElement(choose, "when", {"condition": _denied_condition(route)})
        response = ET.SubElement(when, "return-response")
        ET.SubElement(response, "set-status", {"code": "403", "reason": "Forbidden"})
        challenge = f'Bearer realm="{realm}", error="insufficient_scope"'
        if route.scopes:
            challenge += f', scope="{" ".join(route.scopes)}"'
        header = ET.SubElement(
            response, "set-header", {"name": "WWW-Authenticate", "exists-action": "override"}
        )
        ET.SubElement(header, "value").text = challenge
        ET.SubElement(response, "set-body").text = '{"error":"insufficient_scope"}'
    if not len(choose):
        inbound.remove(choose)
    for section in ("backend", "outbound", "on-error"):
        ET.SubElement(ET.SubElement(policies, section), "base")
    ET.indent(policies)
    return ET.tostring(policies, encoding="unicode") + "\n"
