"""Example (d): a Google Cloud Function served by the real functions-framework on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ..gateway.http_client import bearer, send
from .conftest import EXAMPLES, RFC6750_CASES, Spawn, assert_rfc6750, free_port

FOLDER = EXAMPLES / "cloud_function"


@pytest.fixture(scope="module")
def function_url(module_spawn: Spawn, example_env: dict[str, str]) -> str:
    executable = Path(sys.executable).with_name("functions-framework")
    assert executable.exists(), "functions-framework is a dev dependency"
    port = free_port()
    argv = [str(executable), "--target", "orders", "--host", "127.0.0.1", "--port", str(port)]
    return module_spawn(argv, env=example_env, cwd=FOLDER, port=port)


@pytest.mark.parametrize("case", sorted(RFC6750_CASES))
def test_example_d_tokens(case: str, function_url: str, tokens: dict[str, str | None]) -> None:
    token = tokens[case]
    reply = send("GET", f"{function_url}/orders/42", headers=bearer(token) if token else None)
    assert_rfc6750(case, reply)
    if case == "good":
        assert reply.json() == {"owner": "user-123", "path": "/orders/42"}


def test_example_d_refuses_a_token_in_the_query_string(
    function_url: str, tokens: dict[str, str | None]
) -> None:
    good = tokens["good"]
    assert good is not None
    only_query = send("GET", f"{function_url}/orders?access_token={good}")
    assert only_query.status == 401 and "error=" not in (only_query.header("WWW-Authenticate") or "")
    both = send("GET", f"{function_url}/orders?access_token={good}", headers=bearer(good))
    assert both.status == 400
    assert send("GET", f"{function_url}/orders", headers=bearer(good)).status == 200
