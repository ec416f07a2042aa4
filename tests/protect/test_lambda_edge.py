"""Lambda@Edge viewer-request: 401/403 generated responses at the edge, or the request forwarded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera.protect import Principal
from tessera.protect.lambda_edge import authorize, viewer_request

from .support import Api, bearer, load_event

API = Api()
HANDLER = viewer_request(API.verifier, scopes=["orders:write"])


def edge_event(authorization: str | None = None) -> dict[str, Any]:
    event = load_event("cloudfront_viewer_request")
    if authorization is not None:
        request = event["Records"][0]["cf"]["request"]
        request["headers"]["authorization"] = [{"key": "Authorization", "value": authorization}]
    return event


@pytest.mark.parametrize(
    ("make_token", "status", "challenge"),
    [
        (None, "401", 'Bearer realm="tessera"'),
        (API.expired, "401", 'Bearer realm="tessera", error="invalid_token"'),
        (API.wrong_audience, "401", 'Bearer realm="tessera", error="invalid_token"'),
        (API.forged, "401", 'Bearer realm="tessera", error="invalid_token"'),
        (API.read_only, "403", 'Bearer realm="tessera", error="insufficient_scope", scope="orders:write"'),
    ],
)
def test_rejections_are_generated_responses(
    make_token: Callable[[], str] | None, status: str, challenge: str
) -> None:
    result = HANDLER(edge_event(bearer(make_token()) if make_token else None), None)

    assert result["status"] == status
    assert result["headers"]["www-authenticate"] == [{"key": "WWW-Authenticate", "value": challenge}]
    assert result["headers"]["cache-control"][0]["value"] == "no-store"
    assert "uri" not in result


def test_genuine_token_forwards_the_request_unchanged() -> None:
    event = edge_event(bearer(API.token()))
    original = event["Records"][0]["cf"]["request"]

    assert HANDLER(event, None) == original


def test_decorated_handler_receives_the_principal() -> None:
    @authorize(API.verifier)
    def handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
        request: dict[str, Any] = event["Records"][0]["cf"]["request"]
        request["headers"]["x-principal"] = [{"key": "X-Principal", "value": principal.principal_id}]
        return request

    forwarded = handler(edge_event(bearer(API.token())), None)

    assert forwarded["headers"]["x-principal"][0]["value"] == "alice"


def test_ver52_two_authorization_headers_at_the_edge_are_invalid_request() -> None:
    token = API.token()
    event = edge_event(bearer(token))
    event["Records"][0]["cf"]["request"]["headers"]["authorization"].append(
        {"key": "Authorization", "value": bearer(token)}
    )

    assert HANDLER(event, None)["status"] == "400"


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"Records": []},
        {"Records": [{"cf": {}}]},
        {"Records": [{"cf": {"request": {"headers": "x", "method": "GET", "uri": "/"}}}]},
        {"Records": [{"cf": {"request": {"headers": {"a": [{"value": 1}]}, "method": "GET", "uri": "/"}}}]},
        {"Records": [{"cf": {"request": {"headers": {}, "method": None, "uri": "/"}}}]},
    ],
)
def test_malformed_events_get_a_clean_400(event: Any) -> None:
    assert HANDLER(event, None)["status"] == "400"


def test_ver52_query_token_next_to_the_header_at_the_edge_is_invalid_request() -> None:
    token = API.token()
    both = edge_event(bearer(token))
    both["Records"][0]["cf"]["request"]["querystring"] = f"size=large&access%5Ftoken={token}"
    query_only = edge_event()
    query_only["Records"][0]["cf"]["request"]["querystring"] = f"access_token={token}"
    genuine = edge_event(bearer(token))

    assert HANDLER(both, None)["status"] == "400"
    assert HANDLER(query_only, None)["status"] == "401"
    assert HANDLER(genuine, None) == genuine["Records"][0]["cf"]["request"]
