"""``tessera dev`` with a ``tessera.toml``: its APIs, clients and users beside the dev ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import tessera.config
from tessera.cli import main
from tessera.errors import ConfigurationError
from tessera.issue.app import create_app
from tessera.issue.dev.provider import dev_provider
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.mail.delivery import DevOutbox
from tessera.issue.provider import Provider
from tessera.passwordless.sms import SnsSmsSender
from tessera.testing.signin import sign_in_by_text

from ...config.sample import SECRET, VALID, line_of

ISSUER = "http://127.0.0.1:8000"
ENV = {"ORDERS_SERVICE_SECRET": SECRET, "TESSERA_DEV_SERVICE_SECRET": "d" * 40}


def _config(tmp_path: Path, text: str = VALID) -> tessera.config.TesseraConfig:
    path = tmp_path / "tessera.toml"
    path.write_text(text)
    return tessera.config.read_config(path, environ={})


def _dev(
    tmp_path: Path, config: tessera.config.TesseraConfig, env: dict[str, str] = ENV, issuer: str = ISSUER
) -> Provider:
    return dev_provider(
        tmp_path / "data", issuer, environ=env, outbox=DevOutbox(), file_config=config
    ).provider


def test_the_file_is_registered_beside_the_dev_clients(tmp_path: Path) -> None:
    provider = _dev(tmp_path, _config(tmp_path))
    settings = provider.settings
    assert [(a.audience, sorted(a.scopes)) for a in settings.apis] == [
        ("orders-api", ["orders:read", "orders:write"])
    ]
    assert settings.name == "Orders" and settings.signup
    service = provider.store.get_client("orders-service")
    assert service is not None and service.secret_hash == hash_client_secret(SECRET)
    assert service.grant_types == ("client_credentials",) and not service.public
    web = provider.store.get_client("orders-web")
    assert web is not None and web.public and web.redirect_uris == ("http://127.0.0.1:5173/callback",)
    assert all(provider.store.get_client(c) is not None for c in ("dev-spa", "dev-partner", "dev-service"))
    bob = provider.store.find_user_by_email("bob@example.com")
    assert bob is not None and bob.roles == ("admin",)


def test_a_restart_keeps_the_users_id_and_takes_the_files_roles(tmp_path: Path) -> None:
    first = _dev(tmp_path, _config(tmp_path)).store.find_user_by_email("bob@example.com")
    second_config = _config(tmp_path, VALID.replace('roles = ["admin"]', 'roles = ["support"]'))
    second = _dev(tmp_path, second_config).store.find_user_by_email("bob@example.com")
    assert first is not None and second is not None
    assert second.user_id == first.user_id and second.roles == ("support",)


def test_signup_is_on_under_dev_unless_the_file_says_no(tmp_path: Path) -> None:
    closed = _config(tmp_path, VALID.replace("signup = true", "signup = false"))
    assert not _dev(tmp_path, closed).settings.signup
    unsaid = _config(tmp_path, VALID.replace("signup = true\n", ""))
    assert _dev(tmp_path, unsaid).settings.signup


def test_the_files_phones_sign_in_by_text_and_its_sms_limits_apply(tmp_path: Path) -> None:
    text = VALID.replace('roles = ["admin"]', 'roles = ["admin"]\nphone = "+44 7400 123456"')
    text += '\n[sms]\nsender = "dev"\nsends_per_hour_per_number = 2\nsends_per_hour_per_country = 7\n'
    provider = _dev(tmp_path, _config(tmp_path, text))
    try:
        settings = provider.settings
        assert (settings.sms_sends_per_hour_per_number, settings.sms_sends_per_hour_per_country) == (2, 7)
        bob = provider.store.find_user_by_phone("+447400123456")
        assert bob is not None and bob.email == "bob@example.com"
        browser = TestClient(create_app(provider), base_url=ISSUER, follow_redirects=False)
        answer = sign_in_by_text(browser, "+447400123456", issuer=ISSUER)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin/done"
    finally:
        provider.outgoing.stop()
        provider.store.close()


def test_an_sns_sender_in_the_file_replaces_the_dev_outbox(tmp_path: Path) -> None:
    text = VALID + '\n[sms]\nsender = "sns"\nsns_region = "eu-west-2"\n'
    provider = _dev(tmp_path, _config(tmp_path, text))
    try:
        sender = provider.outgoing.sms_sender
        assert isinstance(sender, SnsSmsSender) and sender._client.meta.region_name == "eu-west-2"
    finally:
        provider.outgoing.stop()
        provider.store.close()


def test_refusals(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with pytest.raises(
        ConfigurationError, match=re.escape("the issuer is http://127.0.0.1:8000 but tessera dev serves")
    ):
        _dev(tmp_path, config, issuer="http://127.0.0.1:9000")
    missing = f"{config.path}:{line_of(VALID, 'secret_env')}: clients[0].secret_env: ORDERS_SERVICE_SECRET"
    with pytest.raises(ConfigurationError, match=re.escape(missing)):
        _dev(tmp_path, config, env={})
    taken = _config(tmp_path, VALID.replace('id = "orders-web"', 'id = "dev-spa"'))
    with pytest.raises(ConfigurationError, match="client id 'dev-spa' is tessera dev's own"):
        _dev(tmp_path, taken)


def test_the_command_exits_2_with_the_files_line_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tessera.toml"
    path.write_text(VALID.replace("signup = true", "signup = 2"))
    monkeypatch.delenv("TESSERA_CONFIG", raising=False)
    monkeypatch.delenv("TESSERA_ISSUER", raising=False)
    assert main(["dev", "--config", str(path), "--data", str(tmp_path / "data")]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"error: {path}:4: provider.signup: must be true or false"
    monkeypatch.chdir(tmp_path)  # ./tessera.toml is read without --config
    assert main(["dev", "--data", str(tmp_path / "data")]) == 2
    assert "provider.signup" in capsys.readouterr().err


UPSTREAM = """
[store]
url = "sqlite:///ignored-by-this-test.db"

[[upstreams]]
id = "corp"
name = "Corp SSO"
issuer = "https://login.example.com"
client_id = "tessera"
client_secret_env = "CORP_CLIENT_SECRET"
scopes = ["openid", "email", "profile"]
"""


def test_the_files_upstreams_reach_the_provider_and_config_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_SERVICE_SECRET", SECRET)
    provider = _dev(tmp_path, _config(tmp_path, VALID + UPSTREAM))
    assert [(u.id, u.name) for u in provider.federation.upstreams.values()] == [("corp", "Corp SSO")]
    assert main(["config", "check", str(tmp_path / "tessera.toml")]) == 0
    assert ": ok:" in capsys.readouterr().out


def test_a_bad_upstream_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_SERVICE_SECRET", SECRET)
    text = VALID + UPSTREAM.replace('id = "corp"', 'id = "Corp SSO!"')
    (tmp_path / "tessera.toml").write_text(text)
    assert main(["config", "check", str(tmp_path / "tessera.toml")]) == 2
    err = capsys.readouterr().err
    assert f"tessera.toml:{line_of(text, '[[upstreams]]')}: upstreams[0]: " in err
    assert "an upstream's id must be" in err and "Traceback" not in err


def test_the_start_page_lists_the_files_apis(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from tessera.issue.app import create_app

    provider = _dev(tmp_path, _config(tmp_path))
    with TestClient(create_app(provider), base_url=ISSUER) as browser:
        home = browser.get("/")
    assert home.status_code == 200
    assert "orders-api" in home.text and "orders:read orders:write" in home.text.replace("\n", " ")
    assert f"{ISSUER}/demo/hello" in home.text
