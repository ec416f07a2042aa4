"""Example (c): an Azure Function, called the way the Functions host calls it.

The Azure Functions host (azure-functions-core-tools) cannot be installed here: its installer
downloads the host from Azure's CDN. The test therefore builds ``azure.functions.HttpRequest``
objects and calls the function the host would find through ``app.get_functions()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import azure.functions as func
import pytest

from ..gateway.http_client import Reply
from .conftest import EXAMPLES, RFC6750_CASES, assert_rfc6750
from .loading import load_example


@pytest.fixture
def get_order(monkeypatch: pytest.MonkeyPatch, example_env: dict[str, str]) -> Callable[..., Any]:
    for name, value in example_env.items():
        monkeypatch.setenv(name, value)
    module = load_example(EXAMPLES / "azure_function" / "function_app.py")
    functions = {f.get_function_name(): f for f in module.app.get_functions()}
    trigger = functions["get_order"].get_bindings()[0]
    assert trigger.type == "httpTrigger" and trigger.route == "orders/{id}"
    user_function: Callable[..., Any] = functions["get_order"].get_user_function()
    return user_function


def _call(function: Callable[..., Any], token: str | None) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = func.HttpRequest(
        "GET",
        "https://orders.azurewebsites.net/api/orders/42",
        headers=headers,
        route_params={"id": "42"},
        body=b"",
    )
    response = function(req=request)
    assert isinstance(response, func.HttpResponse)
    return Reply(response.status_code, list(response.headers.items()), response.get_body())


@pytest.mark.parametrize("case", sorted(RFC6750_CASES))
def test_example_c_tokens(case: str, get_order: Callable[..., Any], tokens: dict[str, str | None]) -> None:
    reply = _call(get_order, tokens[case])
    assert_rfc6750(case, reply)
    if case == "good":
        assert json.loads(reply.body) == {"order": "42", "owner": "user-123"}
