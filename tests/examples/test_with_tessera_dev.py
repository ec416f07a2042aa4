"""Every example against a real ``tessera dev`` started with ``examples/tessera.toml``, as its README says.

No code is written and no token is forged: ``orders-service`` (a confidential client of the
file, its secret from ``ORDERS_SERVICE_SECRET``) gets a token by client_credentials, and
``bob@example.com`` (a seed user of the file) signs in to ``orders-web``. The examples read the
same file; only ``TESSERA_ISSUER`` changes, because the provider runs on a free port.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest

from tessera.testing.devserver import DevServer

from ..gateway.http_client import bearer, send
from .against_dev import claims_of, service_token, user_token
from .conftest import EXAMPLES, Spawn, free_port, gateway_argv
from .loading import load_example
from .test_lambda_edge import bundle_edge_function, viewer_request_event

SECRET = secrets.token_urlsafe(32)
MACHINE = "client:orders-service"  # the principal id of a client_credentials token


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    """``ORDERS_SERVICE_SECRET=... tessera dev --config examples/tessera.toml`` on a free port."""
    with DevServer(
        users=(), config=EXAMPLES / "tessera.toml", env={"ORDERS_SERVICE_SECRET": SECRET}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def env(dev: DevServer) -> dict[str, str]:
    """What the examples need beyond the file: the issuer's port."""
    return {"TESSERA_ISSUER": dev.issuer}


@pytest.fixture(scope="module")
def writer(dev: DevServer) -> str:
    """A machine token with both orders scopes."""
    reply = service_token(dev, SECRET)
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def reader(dev: DevServer) -> str:
    """Bob's token from orders-web, asking for orders:read only."""
    reply = user_token(dev, "bob@example.com", "openid orders:read")
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


def test_the_tokens_are_for_the_orders_api(dev: DevServer, writer: str, reader: str) -> None:
    machine, user = claims_of(writer), claims_of(reader)
    assert machine["aud"] == "orders-api" and machine["sub"] == "orders-service"
    assert machine["scope"] == "orders:read orders:write" and machine["iss"] == dev.issuer
    assert user["aud"] == "orders-api" and user["scope"] == "openid orders:read"
    assert user["roles"] == ["admin"]  # bob's roles from [[users]]


def test_a_wrong_secret_gets_no_token(dev: DevServer) -> None:
    assert service_token(dev, SECRET + "x").status_code == 401


def test_lambda_authorizer_through_the_gateway(
    module_spawn: Spawn, env: dict[str, str], writer: str, reader: str
) -> None:
    folder = EXAMPLES / "lambda_authorizer"
    url = module_spawn(gateway_argv(folder / "routes.toml"), env=env, cwd=folder)
    assert send("GET", f"{url}/orders/42", headers=bearer(writer)).json() == {
        "order": "42",
        "owner": MACHINE,
    }
    bob = claims_of(reader)["sub"]
    assert send("GET", f"{url}/orders", headers=bearer(reader)).json() == {"orders": ["1", "2"], "owner": bob}
    assert send("DELETE", f"{url}/orders/1", headers=bearer(reader)).status == 403  # orders:read only
    assert send("DELETE", f"{url}/orders/1", headers=bearer(writer)).json() == {
        "deleted": "1",
        "by": MACHINE,
    }
    assert send("GET", f"{url}/orders/42").status == 401


def test_fastapi_through_the_gateway_and_uvicorn(
    module_spawn: Spawn, env: dict[str, str], reader: str
) -> None:
    folder = EXAMPLES / "fastapi_mangum"
    through_gateway = module_spawn(gateway_argv(folder / "routes.toml"), env=env, cwd=folder)
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "orders_fastapi:app", "--host", "127.0.0.1", "--port", str(port)]
    direct = module_spawn([*argv, "--log-level", "warning"], env=env, cwd=folder, port=port)
    bob = claims_of(reader)["sub"]
    for url in (through_gateway, direct):
        assert send("GET", f"{url}/orders/42", headers=bearer(reader)).json() == {"order": "42", "owner": bob}
        denied = send("DELETE", f"{url}/orders/42", headers=bearer(reader))
        assert denied.status == 403 and 'scope="orders:write"' in (denied.header("WWW-Authenticate") or "")


def test_cloud_function_under_functions_framework(
    module_spawn: Spawn, env: dict[str, str], writer: str
) -> None:
    port = free_port()
    executable = str(Path(sys.executable).with_name("functions-framework"))
    argv = [executable, "--target", "orders", "--host", "127.0.0.1", "--port", str(port)]
    url = module_spawn(argv, env=env, cwd=EXAMPLES / "cloud_function", port=port)
    reply = send("GET", f"{url}/orders/42", headers=bearer(writer))
    assert reply.json() == {"owner": MACHINE, "path": "/orders/42"}


def test_azure_function(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], writer: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    module = load_example(EXAMPLES / "azure_function" / "function_app.py")
    get_order = {f.get_function_name(): f for f in module.app.get_functions()}[
        "get_order"
    ].get_user_function()
    request = func.HttpRequest(
        "GET",
        "http://localhost/api/orders/42",
        headers={"Authorization": f"Bearer {writer}"},
        route_params={"id": "42"},
        body=b"",
    )
    reply = get_order(request)
    assert reply.status_code == 200 and json.loads(reply.get_body()) == {
        "order": "42",
        "owner": MACHINE,
    }


def test_lambda_edge_with_the_bundled_keys(tmp_path: Path, dev: DevServer, reader: str) -> None:
    bundle = tmp_path / "lambda_edge"
    shutil.copytree(EXAMPLES / "lambda_edge", bundle)
    fetched = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "jwks", "fetch", dev.issuer], capture_output=True, check=True
    )
    bundle_edge_function(bundle, dev.issuer, json.loads(fetched.stdout))
    handler = load_example(bundle / "viewer_request.py").handler
    forwarded = handler(viewer_request_event(reader), None)
    assert forwarded["headers"]["x-caller"] == [{"key": "X-Caller", "value": claims_of(reader)["sub"]}]
    assert handler(viewer_request_event(None), None)["status"] == "401"


def test_self_signup_under_tessera_dev(dev: DevServer, module_spawn: Spawn, env: dict[str, str]) -> None:
    """carol@example.com is in no file: signup = true gives her an account on her first sign-in."""
    reply = user_token(dev, "carol@example.com", "openid email orders:read")
    assert reply.status_code == 200, reply.text
    claims = claims_of(reply.json()["access_token"])
    assert claims["aud"] == "orders-api" and claims["roles"] == []
    folder = EXAMPLES / "lambda_authorizer"
    url = module_spawn(gateway_argv(folder / "routes.toml"), env=env, cwd=folder)
    assert send("GET", f"{url}/orders/7", headers=bearer(reply.json()["access_token"])).status == 200
