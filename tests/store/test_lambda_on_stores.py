"""The Lambda handler's provider on the store ``TESSERA_STORE`` names: DynamoDB on moto, warm reuse."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.hosting.lambda_handler import make_handler, provider_from_environment
from tessera.store import ClientRecord
from tessera.store.dynamodb import DynamoDBStore

from .conftest import fresh_store_url

SECRET = "svc-secret-" + "q" * 40


def _token_event(secret: str) -> dict[str, object]:
    basic = base64.b64encode(f"svc:{secret}".encode()).decode()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/token",
        "rawQueryString": "",
        "headers": {
            "host": "id.example.test",
            "content-type": "application/x-www-form-urlencoded",
            "authorization": f"Basic {basic}",
        },
        "requestContext": {
            "http": {"method": "POST", "path": "/token", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.7"},
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": "grant_type=client_credentials",
        "isBase64Encoded": False,
    }


def test_the_handler_runs_on_dynamodb_and_reuses_its_client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = fresh_store_url("dynamodb", request, tmp_path)
    provider = provider_from_environment(
        {
            "TESSERA_ISSUER": "https://id.example.test",
            "TESSERA_DATA": str(tmp_path),
            "TESSERA_STORE": url,
            "TESSERA_SMTP_HOST": "smtp.example.test",
            "TESSERA_MAIL_FROM": "tessera@example.test",
        }
    )
    assert isinstance(provider.store, DynamoDBStore)
    register_client(
        provider.store,
        ClientRecord(
            client_id="svc",
            auth_methods=("client_secret_basic",),
            secret_hash=hash_client_secret(SECRET),
            grant_types=("client_credentials",),
            scopes=("demo:read",),
        ),
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        handler = make_handler(provider)
        first = handler(_token_event(SECRET), None)
        client = provider.store._db
        second = handler(_token_event(SECRET), None)
        refused = handler(_token_event("wrong-" + SECRET), None)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        provider.outgoing.stop()
    assert first["statusCode"] == 200 and second["statusCode"] == 200
    assert json.loads(second["body"])["token_type"] == "Bearer"
    assert refused["statusCode"] == 401
    assert provider.store._db is client  # the warm invocation reused the connection pool
