"""``[[users]] phone`` (E.164, checked with phonenumbers) and ``[sms]`` in ``tessera.toml``."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from tessera.cli import main
from tessera.config import SmsConfig, read_config
from tessera.config.schema import parse_config

from .conftest import WriteConfig
from .sample import VALID, line_of, replaced

SMS = """
[sms]
sender = "sns"
sns_region = "eu-west-2"
default_region = "GB"
sends_per_hour_per_number = 3
sends_per_hour_per_country = 50
"""


def _problem(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    code = main(["config", "check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err, (code, out, err)
    return err.strip()


def test_a_users_phone_is_kept_in_e164_and_sms_is_read(write_config: WriteConfig) -> None:
    path = write_config(replaced('roles = ["admin"]', 'roles = ["admin"]\nphone = "+44 7400 123456"') + SMS)
    config = read_config(path)
    assert [(u.email, u.phone) for u in config.users] == [("bob@example.com", "+447400123456")]
    assert config.sms == SmsConfig("sns", "eu-west-2", "GB", 3, 50)
    assert read_config(write_config(VALID)).sms is None
    assert read_config(write_config(VALID)).users[0].phone is None


@pytest.mark.parametrize(
    "case",
    [
        ('phone = "07400 123456"', "07400", "users[0].phone", "international form"),
        ('phone = "+44 7400 12345x"', "12345x", "users[0].phone", "not a valid phone number"),
        ('phone = "+1 555 0100"', "555 0100", "users[0].phone", "not a valid phone number"),
        ("phone = 447400123456", "phone", "users[0].phone", "must be a string"),
        (
            'phone = "+447400123456"\n\n[[users]]\nemail = "ann@example.com"\nphone = "+44 7400 123456"',
            "+44 7400 123456",
            "users[1].phone",
            "+447400123456 is the phone of another user",
        ),
    ],
)
def test_a_bad_phone_is_named_at_its_line(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, case: tuple[str, str, str, str]
) -> None:
    addition, fragment, key, says = case
    text = replaced('roles = ["admin"]', f'roles = ["admin"]\n{addition}')
    path = write_config(text)
    message = _problem(capsys, path)
    assert message.startswith(f"{path}:{line_of(text, fragment)}: {key}: "), message
    assert says in message


@pytest.mark.parametrize(
    "case",
    [
        ('sender = "sns"', 'sender = "pigeon"', "pigeon", "sms.sender", "'dev' or 'sns'"),
        ('sender = "sns"', 'sender = "dev"', "sns_region", "sms.sns_region", 'only the "sns" sender'),
        ('default_region = "GB"', 'default_region = "UK"', '"UK"', "sms.default_region", "not a region code"),
        ("= 3", "= 0", "per_number", "sms.sends_per_hour_per_number", "at least 1"),
        ("= 50", '= "50"', "per_country", "sms.sends_per_hour_per_country", "whole number"),
        ('"eu-west-2"', '"eu-west-2"\nregion = "x"', 'region = "x"', "sms.region", "unknown key"),
    ],
)
def test_a_bad_sms_setting_is_named_at_its_line(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, case: tuple[str, str, str, str, str]
) -> None:
    old, new, fragment, key, says = case
    text = VALID + SMS.replace(old, new)
    path = write_config(text)
    message = _problem(capsys, path)
    assert message.startswith(f"{path}:{line_of(text, fragment)}: {key}: "), message
    assert says in message


def test_without_phonenumbers_a_phone_must_already_be_e164(monkeypatch: pytest.MonkeyPatch) -> None:
    """A protect-only install (no idp extra) reads the same file: E.164 passes, anything else is named."""
    real_import = builtins.__import__

    def no_phonenumbers(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "phonenumbers":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_phonenumbers)
    good = replaced('roles = ["admin"]', 'roles = ["admin"]\nphone = "+447400123456"')
    config, problems = parse_config(good, "t.toml")
    assert problems == [] and config is not None and config.users[0].phone == "+447400123456"
    spaced = replaced('roles = ["admin"]', 'roles = ["admin"]\nphone = "+44 7400 123456"')
    _, problems = parse_config(spaced, "t.toml")
    assert [(p.key, "international form" in p.message) for p in problems] == [("users[0].phone", True)]
