"""Example (e): a Lambda@Edge viewer-request function fed documented CloudFront events.

CloudFront cannot run locally, so the events are built in the documented viewer-request shape
(``Records[0].cf.config`` / ``.request`` with CloudFront's list-of-``{key, value}`` headers).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tessera.testing import LocalIssuer

from ..gateway.http_client import Reply
from .conftest import AUDIENCE, EXAMPLES, RFC6750_CASES, assert_rfc6750
from .loading import load_example


def viewer_request_event(token: str | None) -> dict[str, Any]:
    """A CloudFront viewer-request event for ``GET /media/picture.jpg?size=large``."""
    headers = {
        "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
        "user-agent": [{"key": "User-Agent", "value": "curl/8.5.0"}],
    }
    if token is not None:
        headers["authorization"] = [{"key": "Authorization", "value": f"Bearer {token}"}]
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": "d111111abcdef8.cloudfront.net",
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "viewer-request",
                        "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                    },
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": headers,
                        "method": "GET",
                        "querystring": "size=large",
                        "uri": "/media/picture.jpg",
                    },
                }
            }
        ]
    }


def bundle_edge_function(bundle: Path, issuer: str, jwks: dict[str, Any]) -> None:
    """What a deployment adds beside the code: the examples' tessera.toml naming the real issuer, the JWKS."""
    text = (EXAMPLES / "tessera.toml").read_text()
    (bundle / "tessera.toml").write_text(text.replace('"http://127.0.0.1:8000"', json.dumps(issuer), 1))
    (bundle / "jwks.json").write_text(json.dumps(jwks))


@pytest.fixture
def handler(tmp_path: Path, issuer: LocalIssuer) -> Callable[[Any, Any], Any]:
    """The example deployed as Lambda@Edge would be: code plus bundled config.json and jwks.json."""
    bundle = tmp_path / "lambda_edge"
    shutil.copytree(EXAMPLES / "lambda_edge", bundle)
    bundle_edge_function(bundle, issuer.issuer, issuer.jwks())
    entry: Callable[[Any, Any], Any] = load_example(bundle / "viewer_request.py").handler
    return entry


@pytest.mark.parametrize("case", sorted(RFC6750_CASES))
def test_example_e_tokens(case: str, handler: Callable[[Any, Any], Any], issuer: LocalIssuer) -> None:
    now_tokens = {
        "good": issuer.mint(aud=AUDIENCE, scope="orders:read"),
        "missing": None,
        "expired": issuer.mint(aud=AUDIENCE, scope="orders:read", iat=1_600_000_000, exp=1_600_000_600),
        "wrong_audience": issuer.mint(aud="billing-api", scope="orders:read"),
        "insufficient_scope": issuer.mint(aud=AUDIENCE, scope="profile"),
    }
    result = handler(viewer_request_event(now_tokens[case]), None)
    if case == "good":
        assert "status" not in result  # a request object: CloudFront forwards it to the origin
        assert result["uri"] == "/media/picture.jpg"
        assert result["headers"]["x-caller"] == [{"key": "X-Caller", "value": "user-123"}]
        return
    assert result["status"] == str(RFC6750_CASES[case][0])
    headers = [(entry["key"], entry["value"]) for values in result["headers"].values() for entry in values]
    assert_rfc6750(
        case, Reply(int(result["status"]), headers, result["body"].encode()), required_scope="orders:read"
    )
    assert (
        json.loads(result["body"])["error"] in ("invalid_token", "insufficient_scope", None)
        or case == "missing"
    )
