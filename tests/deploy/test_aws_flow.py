"""The whole sign-in and token flow through the Lambda handler, with API Gateway v2 events.

Against DynamoDB on moto's server, the master key in Secrets Manager on the same server, and
mail through a real SMTP server: once in process (the handler as the Lambda runtime would call
it) and once in the real ``awslambdaric`` runtime client against the Runtime API stand-in.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tessera.encoding import b64url_encode
from tessera.gateway.runtime_api import RicInvoker
from tessera.issue.hosting import lambda_handler
from tessera.issue.hosting.environment import provider_from_environment
from tessera.issue.provider import Provider
from tessera.keys.sealing import MasterKey
from tessera.store.dynamodb import DynamoDBStore

from .conftest import MailSink, provider_env, store_for
from .flow import EMAIL, run_flow
from .lambda_events import LambdaTransport

ISSUER = "https://id.example.test"


@pytest.fixture
def aws_env(
    request: pytest.FixtureRequest, tmp_path: Path, moto_endpoint: str, mail_sink: MailSink
) -> dict[str, str]:
    """The function's environment as the SAM template sets it, the secret and table on moto."""
    secrets = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=moto_endpoint)
    name = f"tessera-master-{tmp_path.name}"
    arn = secrets.create_secret(Name=name, SecretString=b64url_encode(MasterKey.generate().derive("x", 48)))[
        "ARN"
    ]
    env = provider_env(ISSUER, store_for("dynamodb", request, tmp_path), mail_sink, "")
    del env["TESSERA_MASTER_KEY"]
    return {
        **env,
        "TESSERA_MASTER_KEY_SECRET": str(arn),
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }


def _mail_reader(sink: MailSink, send_mail: Any) -> Any:
    before = len(sink.messages)

    def read_code() -> str:
        handled = send_mail()  # the scheduled send-mail event, as EventBridge sends it
        assert handled["handled"] in (0, 1)  # 0: the container's sender thread was first
        return sink.code_for(EMAIL, after=before)

    return read_code


@pytest.fixture
def lambda_loop() -> Iterator[None]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def test_sign_in_and_tokens_through_the_handler_on_dynamodb(
    aws_env: dict[str, str], mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch, lambda_loop: None
) -> None:
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TESSERA_MASTER_KEY", raising=False)
    monkeypatch.setattr(lambda_handler, "_cached", [])
    built: list[Provider] = []

    def build() -> Provider:
        built.append(provider_from_environment())
        return built[-1]

    monkeypatch.setattr(lambda_handler, "provider_from_environment", build)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler.handler(event, None)

    transport = LambdaTransport(invoke)
    try:
        with httpx.Client(transport=transport) as http:
            read_code = _mail_reader(mail_sink, lambda: invoke({"tessera": "send-mail"}))
            tokens = run_flow(http, ISSUER, read_code)
    finally:
        for provider in built:
            provider.outgoing.stop()
            provider.store.close()
    assert tokens["token_type"] == "Bearer"
    assert transport.events >= 12
    assert len(built) == 1  # one cold start served the whole flow
    assert isinstance(built[0].store, DynamoDBStore)


def test_sign_in_and_tokens_through_awslambdaric(
    aws_env: dict[str, str], mail_sink: MailSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TESSERA_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("TESSERA_MASTER_KEY", raising=False)
    handler = "tessera.issue.hosting.lambda_handler:handler"
    invoker = RicInvoker(tmp_path, timeout_seconds=30)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result = invoker.invoke(handler, event)
        assert not result.failed, (result.error_type, result.error_message)
        payload: dict[str, Any] = result.payload
        return payload

    try:
        with httpx.Client(transport=LambdaTransport(invoke)) as http:
            run_flow(http, ISSUER, _mail_reader(mail_sink, lambda: invoke({"tessera": "send-mail"})))
            pid = invoker.process_ids[handler]
            discovery = http.get(f"{ISSUER}/.well-known/openid-configuration")
        assert json.loads(discovery.text)["issuer"] == ISSUER
        assert invoker.process_ids[handler] == pid  # one runtime process, warm, served it all
    finally:
        invoker.close()
