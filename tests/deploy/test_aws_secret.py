"""The master key from Secrets Manager (moto, in process): read once per cold start, errors clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tessera.encoding import b64url_encode
from tessera.errors import ConfigurationError
from tessera.issue.hosting import lambda_handler
from tessera.keys.aws_secret import master_key_from_secret
from tessera.keys.sealing import MasterKey

RAW = bytes(range(48))


@pytest.fixture
def secret_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        made = client.create_secret(Name="tessera-master", SecretString=b64url_encode(RAW))
        yield str(made["ARN"])


def test_the_secret_is_the_master_key(secret_arn: str) -> None:
    key = master_key_from_secret(secret_arn)
    assert key.derive("signing-keys") == MasterKey(RAW).derive("signing-keys")
    assert key.derive("signing-keys") != MasterKey(bytes(48)).derive("signing-keys")
    sealed = MasterKey(RAW).seal(b"private", "kid-1")
    assert key.open(sealed, "kid-1") == b"private"


def test_bad_arns_and_secrets_are_configuration_errors_without_the_secret(secret_arn: str) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    for bad in ("tessera-master", "arn:aws:s3:::bucket", "arn:aws:secretsmanager::1:secret:x"):
        with pytest.raises(ConfigurationError, match="TESSERA_MASTER_KEY_SECRET"):
            master_key_from_secret(bad)
    missing = secret_arn.replace("tessera-master", "nobody")
    with pytest.raises(ConfigurationError, match="ResourceNotFoundException"):
        master_key_from_secret(missing)
    short = client.create_secret(Name="short", SecretString=b64url_encode(b"k" * 16))["ARN"]
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        master_key_from_secret(short)
    garbled = client.create_secret(Name="garbled", SecretString="not base64url! s3cr3t-value")["ARN"]
    with pytest.raises(ConfigurationError) as caught:
        master_key_from_secret(garbled)
    assert "s3cr3t" not in str(caught.value) and "base64url" in str(caught.value)


def test_secret_and_plain_key_together_are_refused(secret_arn: str, tmp_path: Path) -> None:
    env = {
        "TESSERA_ISSUER": "https://id.example.test",
        "TESSERA_DATA": str(tmp_path),
        "TESSERA_SMTP_HOST": "smtp.example.test",
        "TESSERA_MAIL_FROM": "tessera@example.test",
        "TESSERA_MASTER_KEY_SECRET": secret_arn,
        "TESSERA_MASTER_KEY": b64url_encode(bytes(32)),
    }
    with pytest.raises(ConfigurationError, match="not both"):
        lambda_handler.provider_from_environment(env)


def test_the_handler_reads_the_secret_once_per_cold_start(
    secret_arn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    calls: list[str] = []

    def count(**kwargs: Any) -> None:
        calls.append(kwargs["event_name"])

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.secrets-manager.GetSecretValue", count)
    for name, value in {
        "TESSERA_ISSUER": "https://id.example.test",
        "TESSERA_DATA": str(tmp_path),
        "TESSERA_SMTP_HOST": "smtp.example.test",
        "TESSERA_MAIL_FROM": "tessera@example.test",
        "TESSERA_MASTER_KEY_SECRET": secret_arn,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TESSERA_MASTER_KEY", raising=False)
    monkeypatch.delenv("TESSERA_STORE", raising=False)
    monkeypatch.setattr(lambda_handler, "_cached", [])
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/jwks",
        "rawQueryString": "",
        "headers": {"host": "id.example.test"},
        "requestContext": {"http": {"method": "GET", "path": "/jwks", "sourceIp": "192.0.2.1"}},
        "isBase64Encoded": False,
    }
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        answers = [lambda_handler.handler(event, None) for _ in range(3)]
        assert calls == ["before-call.secrets-manager.GetSecretValue"]  # one cold start, one read
        monkeypatch.setattr(lambda_handler, "_cached", [])  # a new container
        answers.append(lambda_handler.handler(event, None))
        assert len(calls) == 2
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert {a["statusCode"] for a in answers} == {200}
    assert answers[3]["body"] == answers[0]["body"]  # the new container opened the sealed keys
