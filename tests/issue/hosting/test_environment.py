"""The provider's environment: the SMTP switches a deployment sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.hosting.environment import provider_from_environment
from tessera.issue.mail.delivery import SMTPMailer


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TESSERA_ISSUER": "https://id.example.test",
        "TESSERA_DATA": str(tmp_path),
        "TESSERA_SMTP_HOST": "smtp.example.test",
        "TESSERA_MAIL_FROM": "tessera@example.test",
        **extra,
    }


def _mailer(tmp_path: Path, **extra: str) -> SMTPMailer:
    provider = provider_from_environment(_env(tmp_path, **extra))
    provider.outgoing.stop()
    provider.store.close()
    assert isinstance(provider.mailer, SMTPMailer)
    return provider.mailer


def test_starttls_is_on_and_may_be_off_only_for_a_loopback_relay(tmp_path: Path) -> None:
    assert _mailer(tmp_path).starttls is True
    loopback = _mailer(tmp_path, TESSERA_SMTP_HOST="127.0.0.1", TESSERA_SMTP_STARTTLS="false")
    assert loopback.starttls is False
    with pytest.raises(ConfigurationError, match="loopback"):
        provider_from_environment(_env(tmp_path, TESSERA_SMTP_STARTTLS="false"))
    with pytest.raises(ConfigurationError, match="TESSERA_SMTP_STARTTLS"):
        provider_from_environment(_env(tmp_path, TESSERA_SMTP_STARTTLS="maybe"))
    with pytest.raises(ConfigurationError, match="TESSERA_SMTP_PORT"):
        provider_from_environment(_env(tmp_path, TESSERA_SMTP_PORT="smtp"))


def test_empty_smtp_login_settings_mean_no_login(tmp_path: Path) -> None:
    mailer = _mailer(tmp_path, TESSERA_SMTP_USERNAME="", TESSERA_SMTP_PASSWORD="")
    assert mailer._username is None and mailer._password is None
    login = _mailer(tmp_path, TESSERA_SMTP_USERNAME="relay", TESSERA_SMTP_PASSWORD="pw")
    assert login._username == "relay"
    with pytest.raises(ConfigurationError, match="the environment variable TESSERA_MAIL_FROM is required"):
        provider_from_environment({k: v for k, v in _env(tmp_path).items() if k != "TESSERA_MAIL_FROM"})
