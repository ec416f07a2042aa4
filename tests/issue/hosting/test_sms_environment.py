"""``TESSERA_SMS_*``: the cloud reader's SMS sender (Amazon SNS, here moto's server) and limits."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from moto.sns.models import sns_backends
from starlette.testclient import TestClient

from tessera.errors import ConfigurationError
from tessera.issue.app import create_app
from tessera.issue.hosting.environment import provider_from_environment
from tessera.passwordless.sms import SnsSmsSender
from tessera.store import User
from tessera.testing.devserver import free_port

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account id
ISSUER = "https://id.example.test"
NUMBER = "+447400123456"
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request)" value="([^"]*)">')


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TESSERA_ISSUER": ISSUER,
        "TESSERA_DATA": str(tmp_path),
        "TESSERA_SMTP_HOST": "smtp.example.test",
        "TESSERA_MAIL_FROM": "tessera@example.test",
        **extra,
    }


@pytest.fixture(scope="module")
def moto_sns() -> Iterator[str]:
    """moto's server on a free loopback port; its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_without_a_sender_there_is_no_sms_and_stray_settings_are_refused(tmp_path: Path) -> None:
    provider = provider_from_environment(_env(tmp_path))
    try:
        assert provider.sms is None
    finally:
        provider.store.close()
    refused = {
        "TESSERA_SMS_SENDER": "carrier-pigeon",
        "TESSERA_SMS_SNS_REGION": REGION,
        "TESSERA_SMS_SENDS_PER_HOUR_PER_NUMBER": "0",
        "TESSERA_SMS_SENDS_PER_HOUR_PER_COUNTRY": "lots",
    }
    for name, value in refused.items():
        extra = (
            {name: value}
            if name == "TESSERA_SMS_SENDER" or name.endswith("REGION")
            else {
                "TESSERA_SMS_SENDER": "sns",
                name: value,
            }
        )
        with pytest.raises(ConfigurationError, match=name):
            provider_from_environment(_env(tmp_path, **extra))


def _published() -> list[tuple[str, str]]:
    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def _code_sent_to(number: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for to, text in _published():
            found = re.search(r"sign-in code is ([0-9]{6})", text)
            if to == number and found:
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no text to {number} reached SNS")


def test_sns_from_the_environment_signs_a_user_in_by_text(
    tmp_path: Path, moto_sns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", moto_sns)  # botocore's own per-service endpoint variable
    sns_backends[ACCOUNT][REGION].sms_messages.clear()
    provider = provider_from_environment(
        _env(
            tmp_path,
            TESSERA_SMS_SENDER="sns",
            TESSERA_SMS_SNS_REGION=REGION,
            TESSERA_SMS_DEFAULT_REGION="GB",
            TESSERA_SMS_SENDS_PER_HOUR_PER_NUMBER="3",
            TESSERA_SMS_SENDS_PER_HOUR_PER_COUNTRY="40",
        )
    )
    try:
        assert isinstance(provider.outgoing.sms_sender, SnsSmsSender) and provider.sms is not None
        settings = provider.settings
        assert (settings.sms_default_region, settings.sms_sends_per_hour_per_number) == ("GB", 3)
        assert settings.sms_sends_per_hour_per_country == 40
        provider.store.put_user(User("usr_carol", "carol@example.com", phone=NUMBER))
        browser = TestClient(create_app(provider, demo=False), base_url=ISSUER, follow_redirects=False)
        form = browser.get("/signin/phone")
        fields = dict(_HIDDEN.findall(form.text))
        asked = browser.post("/signin/phone", data={**fields, "phone": "07400 123456"})  # national, GB
        assert asked.status_code == 303, asked.text
        code_page = browser.get(asked.headers["location"])
        code = _code_sent_to(NUMBER)
        done = browser.post(
            "/signin/phone/code", data={**dict(_HIDDEN.findall(code_page.text)), "code": code}
        )
        assert done.status_code == 303 and done.headers["location"] == "/signin/done"
        assert any(c.startswith("__Host-tessera-session=") for c in done.headers.get_list("set-cookie"))
    finally:
        provider.outgoing.stop()
        provider.store.close()
