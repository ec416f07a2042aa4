"""API Gateway's authorizer result cache, reproduced: LAM-01, LAM-04 and the failure modes.

These use deliberately naive authorizers (tests/gateway/apps/gw_naive_authorizers.py) to show
that the gateway's cache behaves like API Gateway's; tessera's own authorizer is exercised
end to end in tests/examples.
"""

from __future__ import annotations

from typing import Any

from tessera.gateway import CACHE_HEADER, GatewayServer

from .conftest import FakeClock, ServeGateway
from .http_client import send

READER = {"Authorization": "Bearer reader"}


def _rest(authorizer: str, ttl: int, **extra: Any) -> dict[str, Any]:
    return {
        "routes": [
            {"method": "GET", "path": "/items", "handler": "gw_echo:echo"},
            {"method": "GET", "path": "/items/{id}", "handler": "gw_echo:echo"},
            {"method": "DELETE", "path": "/items/{id}", "handler": "gw_echo:echo"},
        ],
        "gateway": {
            "payload_version": "1.0",
            "authorizer": "naive",
            "authorizers": {
                "naive": {"handler": f"gw_naive_authorizers:{authorizer}", "ttl_seconds": ttl, **extra}
            },
        },
    }


def _invocations(server: GatewayServer) -> int:
    return server.gateway.authorizers.invocations


def test_lam01_exact_method_arn_policy_cached_denies_the_users_other_routes(
    serve_gateway: ServeGateway, clock: FakeClock
) -> None:
    server = serve_gateway(_rest("exact_arn", 300))
    first = send("GET", f"{server.url}/items", headers=READER)
    assert first.status == 200 and first.header(CACHE_HEADER) == "miss"
    assert first.json()["event"]["requestContext"]["authorizer"] == {
        "principalId": "reader",
        "scope": "read",
        "admin": False,
        "level": 1,
    }
    denied = send("DELETE", f"{server.url}/items/1", headers=READER)
    assert denied.status == 403 and denied.header(CACHE_HEADER) == "hit"
    # The documented symptom: a route the user may call is denied from the cache too.
    symptom = send("GET", f"{server.url}/items/7", headers=READER)
    assert symptom.status == 403 and symptom.header(CACHE_HEADER) == "hit"
    assert _invocations(server) == 1
    clock.advance(301)
    assert send("GET", f"{server.url}/items/7", headers=READER).status == 200
    assert _invocations(server) == 2


def test_lam01_wildcard_policy_cached_allows_a_forbidden_route(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_rest("wildcard", 300))
    assert send("GET", f"{server.url}/items", headers=READER).status == 200
    leaked = send("DELETE", f"{server.url}/items/1", headers=READER)
    assert leaked.status == 200  # the vulnerability: served from the cache, authorizer not run
    assert leaked.header(CACHE_HEADER) == "hit" and _invocations(server) == 1


def test_lam01_without_cache_each_route_gets_its_own_decision(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_rest("wildcard", 0))
    assert send("GET", f"{server.url}/items", headers=READER).status == 200
    assert send("DELETE", f"{server.url}/items/1", headers=READER).status == 403
    assert _invocations(server) == 2


def test_explicit_deny_and_messages_match_api_gateway(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_rest("exact_arn", 0))
    reply = send("DELETE", f"{server.url}/items/1", headers=READER)
    assert reply.status == 403
    assert reply.json() == {"Message": "User is not authorized to access this resource with an explicit deny"}


def test_lam05_missing_token_is_401_without_invoking_the_token_authorizer(
    serve_gateway: ServeGateway,
) -> None:
    server = serve_gateway(_rest("exact_arn", 300))
    reply = send("GET", f"{server.url}/items")
    assert reply.status == 401 and reply.json() == {"message": "Unauthorized"}
    assert _invocations(server) == 0
    assert send("GET", f"{server.url}/items", headers=READER).status == 200


def test_lam05_unauthorized_is_401_and_never_cached(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_rest("exact_arn", 300))
    for _ in range(2):
        reply = send("GET", f"{server.url}/items", headers={"Authorization": "Bearer forged"})
        assert reply.status == 401
    assert _invocations(server) == 2
    assert send("GET", f"{server.url}/items", headers=READER).status == 200


def test_lam07_nested_context_is_an_authorizer_configuration_error(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_rest("nested_context", 0))
    reply = send("GET", f"{server.url}/items", headers=READER)
    assert reply.status == 500
    assert reply.json() == {"message": None}
    flat = serve_gateway(_rest("exact_arn", 0))
    assert send("GET", f"{flat.url}/items", headers=READER).status == 200


def test_lam03_request_authorizer_cache_key_is_the_identity_sources(serve_gateway: ServeGateway) -> None:
    sources = ["method.request.header.Authorization", "method.request.header.X-Tenant"]
    server = serve_gateway(_rest("record", 300, type="REQUEST", identity_sources=sources))
    one = send("GET", f"{server.url}/items", headers={**READER, "X-Tenant": "one"})
    assert one.status == 200 and one.header(CACHE_HEADER) == "miss"
    assert one.json()["event"]["requestContext"]["authorizer"]["tenant"] == "one"
    two = send("GET", f"{server.url}/items", headers={**READER, "X-Tenant": "two"})
    assert two.header(CACHE_HEADER) == "miss"
    again = send("GET", f"{server.url}/items", headers={**READER, "X-Tenant": "one"})
    assert again.header(CACHE_HEADER) == "hit"
    assert again.json()["event"]["requestContext"]["authorizer"]["tenant"] == "one"
    missing = send("GET", f"{server.url}/items", headers=READER)
    assert missing.status == 401
    assert _invocations(server) == 2


def _http_api(identity_sources: list[str]) -> dict[str, Any]:
    return {
        "routes": [
            {"method": "GET", "path": "/items", "handler": "gw_echo:echo"},
            {"method": "DELETE", "path": "/items/{id}", "handler": "gw_echo:echo"},
        ],
        "gateway": {
            "payload_version": "2.0",
            "authorizer": "simple",
            "authorizers": {
                "simple": {
                    "handler": "gw_naive_authorizers:simple",
                    "type": "HTTP",
                    "simple_responses": True,
                    "ttl_seconds": 300,
                    "identity_sources": identity_sources,
                }
            },
        },
    }


def test_lam04_simple_response_cached_on_one_route_is_reused_on_another(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_http_api(["$request.header.Authorization"]))
    allowed = send("GET", f"{server.url}/items", headers=READER)
    assert allowed.status == 200
    assert allowed.json()["event"]["requestContext"]["authorizer"] == {"lambda": {"who": "reader"}}
    leaked = send("DELETE", f"{server.url}/items/1", headers=READER)
    assert leaked.status == 200 and leaked.header(CACHE_HEADER) == "hit"  # the LAM-04 hazard


def test_lam04_route_key_in_identity_sources_keeps_decisions_apart(serve_gateway: ServeGateway) -> None:
    server = serve_gateway(_http_api(["$request.header.Authorization", "$context.routeKey"]))
    assert send("GET", f"{server.url}/items", headers=READER).status == 200
    denied = send("DELETE", f"{server.url}/items/1", headers=READER)
    assert denied.status == 403 and denied.header(CACHE_HEADER) == "miss"
    assert denied.json() == {"message": "Forbidden"}
    assert send("GET", f"{server.url}/items", headers=READER).header(CACHE_HEADER) == "hit"


def test_lam05_unevaluable_policy_or_crash_fails_closed(serve_gateway: ServeGateway) -> None:
    for authorizer in ("bad_policy", "crash"):
        server = serve_gateway(_rest(authorizer, 300))
        reply = send("GET", f"{server.url}/items", headers=READER)
        assert reply.status == 500 and reply.json() == {"message": None}
        assert b"event" not in reply.body  # the handler never ran
    fine = serve_gateway(_rest("exact_arn", 300))
    assert send("GET", f"{fine.url}/items", headers=READER).status == 200
