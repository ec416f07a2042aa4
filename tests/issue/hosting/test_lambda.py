"""The provider behind Mangum: one API Gateway HTTP API (payload v2) request end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tessera.issue.hosting.lambda_handler import make_handler
from tessera.issue.mail.delivery import MailMessage
from tessera.testing.idp import ISSUER, ProviderHarness


def _event(
    path: str, method: str = "GET", body: str = "", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "host": "127.0.0.1:8000",
            "x-forwarded-proto": "http",
            "x-forwarded-port": "8000",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "127.0.0.1",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "t",
            },
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:22:00:00 +0000",
            "timeEpoch": 1_800_000_000_000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture(autouse=True)
def lambda_event_loop() -> Iterator[None]:
    """The loop Mangum runs on, as a Lambda container keeps one; closed after the test."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def test_discovery_through_mangum_api_gateway_v2(idp: ProviderHarness) -> None:
    handler = make_handler(idp.provider)
    result = handler(_event("/.well-known/openid-configuration"), None)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["issuer"] == ISSUER


def test_client_credentials_through_mangum(idp: ProviderHarness) -> None:
    import base64

    handler = make_handler(idp.provider)
    basic = base64.b64encode(("svc:svc-secret-" + "y" * 40).encode()).decode()
    headers = {"content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {basic}"}
    result = handler(_event("/token", "POST", "grant_type=client_credentials", headers), None)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["token_type"] == "Bearer"
    wrong = handler(
        _event("/token", "POST", "grant_type=client_credentials", {**headers, "authorization": "Basic eDp5"}),
        None,
    )
    assert wrong["statusCode"] == 401


def test_trusted_proxies_from_the_environment(tmp_path: Any) -> None:
    from tessera.errors import ConfigurationError
    from tessera.issue.hosting.lambda_handler import provider_from_environment
    from tessera.store.sqlite import SQLiteStore

    env = {
        "TESSERA_ISSUER": "https://id.example.test",
        "TESSERA_DATA": str(tmp_path),
        "TESSERA_SMTP_HOST": "smtp.example.test",
        "TESSERA_MAIL_FROM": "tessera@example.test",
        "TESSERA_SMTP_USERNAME": "relay",
        "TESSERA_SMTP_PASSWORD": "s3cret",
    }
    behind = provider_from_environment({**env, "TESSERA_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 "})
    direct = provider_from_environment(env)
    assert behind.settings.trusted_proxies == ("10.0.0.0/8", "192.0.2.1")
    assert direct.settings.trusted_proxies == ()
    for provider in (behind, direct):
        assert isinstance(provider.store, SQLiteStore)
        provider.store.close()
    with pytest.raises(ConfigurationError):
        provider_from_environment({**env, "TESSERA_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"})


def test_a_send_mail_event_sends_the_queued_mail(idp: ProviderHarness) -> None:
    idp.provider.outgoing.stop()  # as in a frozen container: no sender thread runs
    handler = make_handler(idp.provider)
    idp.provider.outgoing.post(
        MailMessage("alice@example.com", "Code", "Your sign-in code is 123456"),
        expires_at=idp.clock() + 600,
        account_only=True,
    )
    assert idp.outbox.messages() == []
    assert handler({"tessera": "send-mail"}, None) == {"handled": 1}
    assert [m["to"] for m in idp.outbox.messages()] == ["alice@example.com"]
    assert handler({"tessera": "send-mail"}, None) == {"handled": 0}
