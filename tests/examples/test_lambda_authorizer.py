"""Example (a): a Lambda handler behind tessera's Lambda authorizer, served by ``tessera gateway``.

API Gateway answers for the authorizer: 401 ``Unauthorized`` (missing or bad token, no matter
which) and 403 for a Deny, with the WWW-Authenticate headers the example's gateway responses
add. LAM-01 end to end: the cached policy is right for every route.
"""

from __future__ import annotations

import pytest

from tessera.gateway import CACHE_HEADER
from tessera.testing import LocalIssuer

from ..gateway.http_client import Reply, bearer, send
from .conftest import EXAMPLES, RFC6750_CASES, Spawn, gateway_argv

FOLDER = EXAMPLES / "lambda_authorizer"


@pytest.fixture
def gateway_url(spawn: Spawn, example_env: dict[str, str]) -> str:
    """Keys by OpenID discovery from the local issuer, over HTTP."""
    return spawn(gateway_argv(FOLDER / "routes.toml"), env=example_env, cwd=FOLDER)


def _assert_authorizer_case(case: str, reply: Reply) -> None:
    status, _ = RFC6750_CASES[case]
    assert reply.status == status, (case, reply.status, reply.body[:200])
    challenge = reply.header("WWW-Authenticate")
    if status == 200:
        assert challenge is None
        assert reply.json() == {"order": "42", "owner": "user-123"}
    elif status == 401:
        assert challenge == 'Bearer realm="orders"'
        assert reply.json() == {"message": "Unauthorized"}
    else:
        assert challenge == 'Bearer realm="orders", error="insufficient_scope"'
        assert reply.json() == {"error": "insufficient_scope", "principal": "user-123"}


@pytest.mark.parametrize("case", sorted(RFC6750_CASES))
def test_example_a_tokens(case: str, gateway_url: str, tokens: dict[str, str | None]) -> None:
    token = tokens[case]
    _assert_authorizer_case(
        case, send("GET", f"{gateway_url}/orders/42", headers=bearer(token) if token else None)
    )


def test_lam01_cached_policy_is_right_for_every_route(
    gateway_url: str, tokens: dict[str, str | None]
) -> None:
    reader = tokens["good"]
    assert reader is not None
    first = send("GET", f"{gateway_url}/orders", headers=bearer(reader))
    assert first.status == 200 and first.header(CACHE_HEADER) == "miss"
    denied = send("DELETE", f"{gateway_url}/orders/1", headers=bearer(reader))
    assert denied.status == 403 and denied.header(CACHE_HEADER) == "hit"  # no cached Allow leak
    other = send("GET", f"{gateway_url}/orders/7", headers=bearer(reader))
    assert other.status == 200 and other.header(CACHE_HEADER) == "hit"  # no false 403 either


def test_lam01_writer_may_delete(gateway_url: str, issuer: LocalIssuer) -> None:
    writer = issuer.mint(aud="orders-api", scope="orders:read orders:write", sub="writer-1")
    reply = send("DELETE", f"{gateway_url}/orders/1", headers=bearer(writer))
    assert reply.status == 200 and reply.json() == {"deleted": "1", "by": "writer-1"}


def test_example_a_through_awslambdaric_with_bundled_keys(
    spawn: Spawn, bundled_jwks_env: dict[str, str], tokens: dict[str, str | None]
) -> None:
    url = spawn(gateway_argv(FOLDER / "routes.toml", "--runtime", "ric"), env=bundled_jwks_env, cwd=FOLDER)
    for case in ("good", "missing", "expired", "insufficient_scope"):
        token = tokens[case]
        _assert_authorizer_case(
            case, send("GET", f"{url}/orders/42", headers=bearer(token) if token else None)
        )


def test_example_a_fetches_keys_by_discovery_over_http(
    gateway_url: str, tokens: dict[str, str | None], issuer: LocalIssuer
) -> None:
    assert issuer.server is not None
    discovery = f"{issuer.path}/.well-known/openid-configuration"
    before = (issuer.server.count(discovery), issuer.server.count(issuer.jwks_path))
    good = tokens["good"]
    assert good is not None
    assert send("GET", f"{gateway_url}/orders/1", headers=bearer(good)).status == 200
    assert issuer.server.count(discovery) == before[0] + 1
    assert issuer.server.count(issuer.jwks_path) == before[1] + 1
    assert send("GET", f"{gateway_url}/orders/2", headers=bearer(good)).status == 200
    assert issuer.server.count(issuer.jwks_path) == before[1] + 1  # warm: no refetch
