"""Example (b): a FastAPI app on Mangum, through the local gateway (v2 events) and under uvicorn."""

from __future__ import annotations

import sys

import pytest

from ..gateway.http_client import bearer, send
from .conftest import EXAMPLES, RFC6750_CASES, Spawn, assert_rfc6750, free_port, gateway_argv

FOLDER = EXAMPLES / "fastapi_mangum"


@pytest.fixture(scope="module")
def gateway_url(module_spawn: Spawn, example_env: dict[str, str]) -> str:
    return module_spawn(gateway_argv(FOLDER / "routes.toml"), env=example_env, cwd=FOLDER)


@pytest.fixture(scope="module")
def uvicorn_url(module_spawn: Spawn, example_env: dict[str, str]) -> str:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "orders_fastapi:app", "--host", "127.0.0.1", "--port", str(port)]
    return module_spawn([*argv, "--log-level", "warning"], env=example_env, cwd=FOLDER, port=port)


@pytest.mark.parametrize("case", sorted(RFC6750_CASES))
def test_through_the_gateway_as_v2_events(case: str, gateway_url: str, tokens: dict[str, str | None]) -> None:
    token = tokens[case]
    reply = send("GET", f"{gateway_url}/orders/42", headers=bearer(token) if token else None)
    assert_rfc6750(case, reply)
    if case == "good":
        assert reply.json() == {"order": "42", "owner": "user-123"}


@pytest.mark.parametrize("case", sorted(RFC6750_CASES))
def test_directly_as_an_asgi_app(case: str, uvicorn_url: str, tokens: dict[str, str | None]) -> None:
    token = tokens[case]
    reply = send("GET", f"{uvicorn_url}/orders/42", headers=bearer(token) if token else None)
    assert_rfc6750(case, reply)
    if case == "good":
        assert reply.json() == {"order": "42", "owner": "user-123"}


def test_scope_per_route_and_public_route(gateway_url: str, tokens: dict[str, str | None]) -> None:
    good = tokens["good"]
    assert good is not None
    delete = send("DELETE", f"{gateway_url}/orders/42", headers=bearer(good))
    assert delete.status == 403
    assert 'scope="orders:write"' in (delete.header("WWW-Authenticate") or "")
    assert send("GET", f"{gateway_url}/health").json() == {"ok": True}


def test_through_the_gateway_with_awslambdaric(
    spawn: Spawn, example_env: dict[str, str], tokens: dict[str, str | None]
) -> None:
    url = spawn(gateway_argv(FOLDER / "routes.toml", "--runtime", "ric"), env=example_env, cwd=FOLDER)
    for case in ("good", "missing", "insufficient_scope"):
        token = tokens[case]
        assert_rfc6750(case, send("GET", f"{url}/orders/42", headers=bearer(token) if token else None))
