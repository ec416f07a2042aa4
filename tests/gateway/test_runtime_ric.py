"""Handlers run by the real awslambdaric runtime client against the Runtime API stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tessera.gateway.runtime_api import RicInvoker

from .conftest import APPS, ServeGateway
from .http_client import send
from .test_authorizer_cache import _rest
from .test_events import ECHO_ROUTES


@pytest.fixture
def ric() -> Iterator[RicInvoker]:
    invoker = RicInvoker(APPS, timeout_seconds=20)
    yield invoker
    invoker.close()


def test_ric_serves_v1_and_v2_events_one_process_per_handler(
    serve_gateway: ServeGateway, ric: RicInvoker
) -> None:
    server = serve_gateway(ECHO_ROUTES, invoker=ric)
    assert ric.process_ids == {}  # started lazily
    reply = send("GET", f"{server.url}/items/42?tag=a&tag=b", headers=[("X-Dup", "1"), ("X-Dup", "2")])
    assert reply.status == 200
    body = reply.json()
    assert body["event"]["multiValueHeaders"]["X-Dup"] == ["1", "2"]
    assert body["function"] == "gw_echo-echo"
    assert reply.header("X-Request-Id") and reply.header_values("X-Multi") == ["one", "two"]
    v2 = send("GET", f"{server.url}/v2/items/7", headers={"Cookie": "a=b"})
    assert v2.json()["event"]["cookies"] == ["a=b"]
    assert list(ric.process_ids) == ["gw_echo:echo"]  # the same process served both
    payload = bytes(range(256))
    binary = send("POST", f"{server.url}/upload", headers={"Content-Type": "image/png"}, body=payload)
    assert binary.status == 201 and binary.body == payload
    assert set(ric.process_ids) == {"gw_echo:echo", "gw_echo:png"}


def test_ric_handler_error_is_502_and_processes_die_on_close(serve_gateway: ServeGateway) -> None:
    invoker = RicInvoker(APPS, timeout_seconds=20)
    server = serve_gateway(ECHO_ROUTES, invoker=invoker)
    reply = send("GET", f"{server.url}/boom")
    assert reply.status == 502 and reply.json() == {"message": "Internal server error"}
    assert send("GET", f"{server.url}/items/1").status == 200
    handlers = list(invoker.process_ids)
    assert handlers == ["gw_echo:boom", "gw_echo:echo"]
    assert all(invoker.is_running(h) for h in handlers)
    server.stop()
    assert not any(invoker.is_running(h) for h in handlers)


def test_ric_authorizer_unauthorized_and_policy(serve_gateway: ServeGateway, ric: RicInvoker) -> None:
    server = serve_gateway(_rest("exact_arn", 300), invoker=ric)
    assert send("GET", f"{server.url}/items", headers={"Authorization": "Bearer forged"}).status == 401
    allowed = send("GET", f"{server.url}/items", headers={"Authorization": "Bearer reader"})
    assert allowed.status == 200
    assert allowed.json()["event"]["requestContext"]["authorizer"]["principalId"] == "reader"
    assert send("DELETE", f"{server.url}/items/1", headers={"Authorization": "Bearer reader"}).status == 403


def test_ric_import_failure_is_reported_not_hung(serve_gateway: ServeGateway, ric: RicInvoker) -> None:
    result = ric.invoke("gw_missing_module:handler", {})
    assert result.failed and result.error_type == "Runtime.ImportModuleError"
    routes = {"gateway": {"routes": [{"route": "GET /x", "handler": "gw_missing_module:handler"}]}}
    server = serve_gateway(routes, invoker=ric)
    assert send("GET", f"{server.url}/x").status == 502


def test_ric_timeout_kills_the_process_and_the_next_call_gets_a_new_one(serve_gateway: ServeGateway) -> None:
    invoker = RicInvoker(APPS, timeout_seconds=1)
    routes = {"gateway": {"routes": [{"route": "GET /hang", "handler": "gw_echo:hang"}]}}
    server = serve_gateway(
        {"gateway": {"routes": [*routes["gateway"]["routes"], *ECHO_ROUTES["gateway"]["routes"]]}},
        invoker=invoker,
    )
    assert send("GET", f"{server.url}/hang").status == 502
    first = invoker.process_ids["gw_echo:hang"]
    assert not invoker.is_running("gw_echo:hang")
    assert send("GET", f"{server.url}/bare").status == 200
    assert send("GET", f"{server.url}/hang").status == 502
    assert invoker.process_ids["gw_echo:hang"] != first


def test_ric_without_the_runtime_client_installed_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from tessera.errors import ConfigurationError

    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name == "awslambdaric" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigurationError, match="tessera-auth\\[gateway\\]"):
        RicInvoker(APPS)
    monkeypatch.undo()
    RicInvoker(APPS).close()
