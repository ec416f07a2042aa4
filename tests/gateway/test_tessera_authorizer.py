"""tessera's LambdaAuthorizer behind the gateway's cache, with one clock for both (LAM-01, LAM-06)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tessera.gateway import CACHE_HEADER
from tessera.gateway.invoke import InvocationResult
from tessera.protect.authorizer import LambdaAuthorizer
from tessera.protect.routes import parse_routes
from tessera.testing import LocalIssuer
from tessera.verify import Verifier

from .conftest import FakeClock, ServeGateway
from .http_client import bearer, send

RULES: dict[str, Any] = {
    "routes": [
        {"method": "GET", "path": "/items", "scopes": ["items:read"], "handler": "app:handler"},
        {"method": "GET", "path": "/items/{id}", "scopes": ["items:read"], "handler": "app:handler"},
        {"method": "DELETE", "path": "/items/{id}", "scopes": ["items:write"], "handler": "app:handler"},
    ],
    "gateway": {
        "payload_version": "1.0",
        "authorizer": "tessera",
        "authorizers": {"tessera": {"handler": "auth:handler", "ttl_seconds": 60}},
    },
}


class FunctionsInvoker:
    """Runs handlers that are plain callables of the test, with the JSON round trip of Lambda."""

    def __init__(self, functions: dict[str, Callable[[Any, Any], Any]]) -> None:
        self.functions = functions

    def invoke(self, handler: str, event: dict[str, Any]) -> InvocationResult:
        try:
            return InvocationResult(payload=json.loads(json.dumps(self.functions[handler](event, None))))
        except Exception as exc:
            return InvocationResult(error_type=type(exc).__name__, error_message=str(exc))

    def close(self) -> None:
        pass


def _app(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": event["requestContext"]["authorizer"]["principalId"]}


def _serve(serve_gateway: ServeGateway, clock: FakeClock, issuer: LocalIssuer) -> str:
    verifier = Verifier(
        issuer=issuer.issuer,
        audience="api",
        token_type="at+jwt",
        jwks=issuer.jwks(),
        clock=clock,
        cache_size=0,
    )
    authorizer = LambdaAuthorizer(
        verifier,
        parse_routes(RULES),
        cache_ttl_seconds=60,
        identity_sources=["method.request.header.Authorization"],
    )
    invoker = FunctionsInvoker({"auth:handler": authorizer, "app:handler": _app})
    return serve_gateway(RULES, invoker=invoker).url


def test_lam06_cached_allow_outlives_token_expiry_until_the_ttl(
    serve_gateway: ServeGateway, clock: FakeClock
) -> None:
    issuer = LocalIssuer(url="https://id.example.com")
    url = _serve(serve_gateway, clock, issuer)
    now = int(clock.now)
    token = issuer.mint(scope="items:read", iat=now, exp=now + 5)
    assert send("GET", f"{url}/items", headers=bearer(token)).status == 200
    clock.advance(10)  # the token has expired: the verifier would now reject it ...
    stale = send("GET", f"{url}/items/3", headers=bearer(token))
    assert stale.status == 200 and stale.header(CACHE_HEADER) == "hit"  # ... but the cache answers
    clock.advance(60)  # past the TTL: the authorizer runs again and refuses
    expired = send("GET", f"{url}/items/3", headers=bearer(token))
    assert expired.status == 401 and expired.header(CACHE_HEADER) == "miss"


def test_lam01_tessera_policy_cached_on_one_route_is_right_on_the_others(
    serve_gateway: ServeGateway, clock: FakeClock
) -> None:
    issuer = LocalIssuer(url="https://id.example.com")
    url = _serve(serve_gateway, clock, issuer)
    now = int(clock.now)
    reader = issuer.mint(scope="items:read", iat=now, exp=now + 600)
    writer = issuer.mint(scope="items:read items:write", sub="writer", iat=now, exp=now + 600)
    assert send("GET", f"{url}/items", headers=bearer(reader)).status == 200
    assert send("DELETE", f"{url}/items/1", headers=bearer(reader)).status == 403
    assert send("GET", f"{url}/items/9", headers=bearer(reader)).status == 200
    assert send("DELETE", f"{url}/items/1", headers=bearer(writer)).status == 200
    assert send("GET", f"{url}/items", headers=bearer(writer)).header(CACHE_HEADER) == "hit"
    forged = writer[:-4] + ("AAAA" if not writer.endswith("AAAA") else "BBBB")
    assert send("DELETE", f"{url}/items/1", headers=bearer(forged)).status == 401
