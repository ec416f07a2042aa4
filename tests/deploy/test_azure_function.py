"""deploy/azure: the provider as an Azure Function, driven through azure.functions objects.

The Functions host cannot run here: the function ``function_app.py`` registers is called as the
host would call it, with ``func.HttpRequest`` objects, and answers ``func.HttpResponse`` ones,
on a PostgreSQL store (the template's Flexible Server).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
import httpx
import pytest

from tessera.encoding import b64url_encode
from tessera.keys.sealing import MasterKey

from .conftest import MailSink, provider_env, store_for
from .flow import EMAIL, run_flow

ROOT = Path(__file__).resolve().parents[2]
AZURE = ROOT / "deploy" / "azure"
ISSUER = "https://tessera-id.azurewebsites.net"


def _load_function_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tessera_azure_function_app", AZURE / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AzureTransport(httpx.BaseTransport):
    """Each request as the Functions host hands it to the Python worker: a ``func.HttpRequest``."""

    def __init__(self, function: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.function = function
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = dict(request.headers)
        headers["x-forwarded-for"] = "198.51.100.9:51234"
        incoming = func.HttpRequest(
            request.method,
            str(request.url),
            headers=headers,
            params={k: v for k, v in request.url.params.items()},
            body=request.read(),
        )
        answer = self.loop.run_until_complete(self.function(incoming, None))
        assert isinstance(answer, func.HttpResponse)
        return httpx.Response(
            answer.status_code,
            headers=list(answer.headers.items()),
            content=answer.get_body(),
            request=request,
        )


@pytest.fixture
def azure_env(
    request: pytest.FixtureRequest, tmp_path: Path, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    key = b64url_encode(MasterKey.generate().derive("azure", 32))
    env = provider_env(ISSUER, store_for("postgresql", request, tmp_path), mail_sink, key)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("TESSERA_MASTER_KEY_SECRET", "TESSERA_STORE_CACHE"):
        monkeypatch.delenv(name, raising=False)
    yield env


def test_sign_in_and_tokens_through_the_azure_function(
    azure_env: dict[str, str], mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.issue.hosting import environment
    from tessera.issue.provider import Provider

    built: list[Provider] = []
    real = environment.provider_from_environment

    def build(environ: Any = None) -> Provider:
        built.append(real(environ))
        return built[-1]

    monkeypatch.setattr(environment, "provider_from_environment", build)
    module = _load_function_app()
    [function] = module.app.get_functions()
    binding = json.loads(function.get_function_json())
    trigger = next(b for b in binding["bindings"] if b["type"] == "httpTrigger")
    assert trigger["authLevel"].lower() == "anonymous" and trigger["route"] == "/{*route}"
    loop = asyncio.new_event_loop()
    try:
        transport = AzureTransport(function.get_user_function(), loop)
        with httpx.Client(transport=transport) as http:
            before = len(mail_sink.messages)
            tokens = run_flow(http, ISSUER, lambda: mail_sink.code_for(EMAIL, after=before))
            assert tokens["token_type"] == "Bearer"
            discovery = http.get(f"{ISSUER}/.well-known/openid-configuration").json()
            assert discovery["token_endpoint"] == f"{ISSUER}/token"
    finally:
        loop.run_until_complete(module.app.middleware.notify_shutdown())
        module.app.startup_task_done = False
        loop.close()
        for provider in built:
            provider.outgoing.stop()
            provider.store.close()
    assert len(built) == 1  # built by the first request, kept for the rest


def test_host_json_serves_the_issuer_at_the_site_root() -> None:
    host = json.loads((AZURE / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensions"]["http"]["routePrefix"] == ""


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value)
    elif isinstance(node, str) and node.startswith("[") and node.endswith("]"):
        yield node


def test_the_arm_template_holds_together() -> None:
    import re

    template = json.loads((AZURE / "azuredeploy.json").read_text())
    resources = {r["type"]: r for r in template["resources"]}
    assert {
        "Microsoft.Web/sites",
        "Microsoft.Web/serverfarms",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.DBforPostgreSQL/flexibleServers/databases",
    } <= set(resources)
    for expression in _expressions(template):
        assert expression.count("(") == expression.count(")"), expression
        for name in re.findall(r"parameters\('([^']+)'\)", expression):
            assert name in template["parameters"], name
        for name in re.findall(r"variables\('([^']+)'\)", expression):
            assert name in template["variables"], name
    site = resources["Microsoft.Web/sites"]
    assert site["kind"] == "functionapp,linux" and site["properties"]["httpsOnly"] is True
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    read = {"TESSERA_ISSUER", "TESSERA_STORE", "TESSERA_MASTER_KEY", "TESSERA_SMTP_HOST", "TESSERA_MAIL_FROM"}
    assert read <= set(settings)
    from tessera.keys.sealing import MASTER_KEY_ENV
    from tessera.store.url import STORE_ENV

    source = (ROOT / "src" / "tessera" / "issue" / "hosting" / "environment.py").read_text()
    known = {STORE_ENV, MASTER_KEY_ENV, *re.findall(r'"(TESSERA_[A-Z_]+)"', source)}
    assert {n for n in settings if n.startswith("TESSERA_")} <= known
    assert (
        settings["TESSERA_STORE"].startswith("[concat('postgresql://")
        and "sslmode=require" in settings["TESSERA_STORE"]
    )
    secure = {n for n, p in template["parameters"].items() if p["type"] == "securestring"}
    assert {"postgresPassword", "masterKey", "smtpPassword"} <= secure
    assert all(d.startswith("[resourceId(") for r in template["resources"] for d in r.get("dependsOn", []))
