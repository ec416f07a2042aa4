"""SMS codes: E.164 normalisation, the SNS sender against moto's SNS server, the sealed queue."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from moto.sns.models import sns_backends

from tessera.issue.mail.delivery import DevOutbox
from tessera.issue.mail.outgoing import Outgoing
from tessera.issue.provider import Provider
from tessera.issue.settings import ProviderSettings
from tessera.keys.sealing import MasterKey
from tessera.passwordless.sms import (
    PhoneNumberRejected,
    SmsDeliveryFailed,
    SmsMessage,
    SnsSmsSender,
    normalise_phone,
)
from tessera.store import User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import free_port
from tessera.testing.idp import ISSUER, FakeClock

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account id


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+44 7400 123456", "+447400123456"),
        ("+44 (0)7400 123-456", "+447400123456"),
        ("+1 (202) 555-0123", "+12025550123"),
        ("  +33 6 12 34 56 78 ", "+33612345678"),
    ],
)
def test_numbers_are_normalised_to_e164(typed: str, e164: str) -> None:
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "07400 123456",
        "+44 123",
        "+447400123456 ext 5",
        "+\uff14\uff147400123456",
        "tel:+447400123456",
        "call me",
        "",
    ],
)
def test_invalid_or_national_numbers_are_refused_without_a_region(typed: str) -> None:
    with pytest.raises(PhoneNumberRejected) as raised:
        normalise_phone(typed)
    assert raised.value.code == "phone_number_invalid"


def test_a_national_number_is_read_in_the_default_region() -> None:
    assert normalise_phone("07400 123456", "GB") == "+447400123456"


def test_a_message_is_only_for_an_e164_number() -> None:
    assert SmsMessage("+447400123456", "hi").to == "+447400123456"
    for bad in ("447400123456", "+44 7400 123456", "+0123456789"):
        with pytest.raises(PhoneNumberRejected):
            SmsMessage(bad, "hi")


@pytest.fixture(scope="module")
def moto_sns() -> Iterator[str]:
    """moto's server on a free loopback port; its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def sns_client(moto_sns: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sns_backends[ACCOUNT][REGION].sms_messages.clear()
    return boto3.client("sns", region_name=REGION, endpoint_url=moto_sns)


def _published() -> list[tuple[str, str]]:
    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def test_the_sns_sender_publishes_to_the_number(sns_client: Any, moto_sns: str) -> None:
    sender = SnsSmsSender(region_name=REGION, endpoint_url=moto_sns, sender_id="Tessera")
    sender.send(SmsMessage("+447400123456", "Your code is 123456"))
    assert _published() == [("+447400123456", "Your code is 123456")]
    assert "Tessera" in repr(sender)


def test_an_unreachable_sns_is_a_typed_delivery_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    closed = f"http://127.0.0.1:{free_port()}"
    client = boto3.client(
        "sns",
        region_name=REGION,
        endpoint_url=closed,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
    )
    with pytest.raises(SmsDeliveryFailed) as raised:
        SnsSmsSender(client=client).send(SmsMessage("+447400123456", "Your code is 123456"))
    assert raised.value.code == "sms_delivery_failed"
    assert "123456" not in str(raised.value)


def test_a_sign_in_text_reaches_sns_with_the_e164_number_only_for_a_known_number(
    tmp_path: Path, sns_client: Any
) -> None:
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "tessera.db")
    store.put_user(User("usr_carol", "carol@example.com", phone="+447400123456"))
    provider = Provider(
        ProviderSettings(issuer=ISSUER),
        store,
        MasterKey.generate(),
        DevOutbox(),
        clock=clock,
        sms_sender=SnsSmsSender(client=sns_client),
    )
    assert provider.sms is not None
    try:
        provider.sms.start("+44 (0)7400 123-456", "192.0.2.1")
        provider.sms.start("+44 7400 123457", "192.0.2.1")
        provider.outgoing.stop()
        provider.outgoing.drain()
    finally:
        provider.outgoing.stop()
    published = _published()
    assert [number for number, _ in published] == ["+447400123456"]
    assert re.fullmatch(
        r"Your Tessera sign-in code is [0-9]{6}\. It expires in 10 minutes\.", published[0][1]
    )


def test_a_queued_text_is_sealed(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "tessera.db")
    outgoing = Outgoing(store, MasterKey.generate(), DevOutbox(), autostart=False)
    outgoing.post_sms(SmsMessage("+447400123456", "code 834512"), expires_at=2e9, account_only=True)
    with sqlite3.connect(store.path) as db:
        dump = "\n".join(db.iterdump())
    assert "mail_queue" in dump
    assert "447400123456" not in dump and "834512" not in dump
