"""``tessera config check``: each problem as FILE:LINE: KEY: message, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tessera.cli import main

from .conftest import WriteConfig
from .sample import VALID, line_of, replaced


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["config", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _problem(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    code, out, err = _check(capsys, str(path))
    assert code == 2 and out == "", (code, out, err)
    assert "Traceback" not in err
    return err.strip()


def test_a_valid_file_passes_with_a_summary(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig
) -> None:
    path = write_config()
    code, out, err = _check(capsys, str(path))
    assert (code, err) == (0, "")
    assert out.strip() == f"{path}: ok: 1 APIs, 2 clients, 1 users, 1 routes"


@pytest.mark.parametrize(
    "case",
    [
        ('name = "Orders"', 'name = "Orders"\ncolour = "blue"', "colour", "provider.colour", "unknown key"),
        ("[[users]]", "[mystery]\nx = 1\n\n[[users]]", "[mystery]", "mystery", "unknown section"),
        ('roles = ["admin"]', 'roles = ["admin"]\nrole = "x"', "role =", "users[0].role", "unknown key"),
        ("signup = true", 'signup = "yes"', "signup", "provider.signup", "must be true or false"),
        ('type = "public"', "type = 3", "type = 3", "clients[1].type", "must be a string"),
        (
            'type = "public"',
            'type = "secret"',
            'type = "secret"',
            "clients[1].type",
            "'confidential' or 'public'",
        ),
        (
            'scopes = ["openid", "email"',
            'scopes = ["openid", "billing:read", "email"',
            "billing:read",
            "clients[1].scopes",
            "'billing:read' is not a scope of any [[apis]]",
        ),
        (
            '"http://127.0.0.1:5173/callback"',
            '"http://app.example/callback"',
            "app.example",
            "clients[1].redirect_uris",
            "is not https",
        ),
        ('audience = "orders-api"', "", "[[apis]]", "apis[0]", "missing required key 'audience'"),
        (
            'issuer = "http://127.0.0.1:8000"',
            'issuer = "http://id.example"',
            "id.example",
            "provider.issuer",
            "loopback",
        ),
        ('path = "/orders/{id}"', 'path = "orders"', "[[routes]]", "routes[0]", "must start with '/'"),
        ("[provider]", "provider = 3\n[elsewhere]", "provider = 3", "provider", "must be a table"),
        ("[[users]]", "[users]", "[users]", "users", "must be an array of tables ([[users]])"),
        ('id = "orders-web"', 'id = "orders-service"  # again', "# again", "clients[1].id", "declared twice"),
        ('id = "orders-web"', 'id = "USR_web"', "USR_web", "clients[1].id", "not start with 'usr_'"),
        (
            'scopes = ["orders:read", "orders:write"]\n\n[[clients]]',
            'scopes = ["orders:read", "openid"]\n\n[[clients]]',
            '"openid"]',
            "apis[0].scopes",
            "OpenID scope",
        ),
    ],
)
def test_each_problem_names_file_line_and_key(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, case: tuple[str, str, str, str, str]
) -> None:
    old, new, fragment, key, says = case
    text = replaced(old, new)
    path = write_config(text)
    message = _problem(capsys, path)
    assert message.startswith(f"{path}:{line_of(text, fragment)}: {key}: "), message
    assert says in message


def test_loopback_and_https_redirects_pass(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig
) -> None:
    uris = '"http://localhost:3000/cb", "http://[::1]:4000/cb", "https://app.example/cb", "http://127.0.0.1:*/cb"'
    path = write_config(replaced('"http://127.0.0.1:5173/callback"', uris))
    assert _check(capsys, str(path))[0] == 0


def test_a_missing_or_short_secret_is_named_at_its_secret_env_line(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config()
    expected = f"{path}:{line_of(VALID, 'secret_env')}: clients[0].secret_env: "
    monkeypatch.delenv("ORDERS_SERVICE_SECRET")
    message = _problem(capsys, path)
    assert message.startswith(expected) and "ORDERS_SERVICE_SECRET" in message and "not set" in message
    monkeypatch.setenv("ORDERS_SERVICE_SECRET", "tiny-value")
    message = _problem(capsys, path)
    assert message.startswith(expected) and "at least 32 characters" in message
    assert "tiny-value" not in message  # the value itself is never shown


def test_every_problem_is_listed_one_per_line(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig
) -> None:
    text = replaced("signup = true", 'signup = 1\nwho = "x"')
    path = write_config(text)
    lines = _problem(capsys, path).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["provider.signup", "provider.who"]


def test_invalid_toml_names_its_line(capsys: pytest.CaptureFixture[str], write_config: WriteConfig) -> None:
    text = replaced('name = "Orders"', 'name = "Orders')
    path = write_config(text)
    message = _problem(capsys, path)
    assert message.startswith(f"{path}:{line_of(text, 'name =')}: ") and "not valid TOML" in message


def test_a_gateway_table_problem_is_named_at_its_line(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig
) -> None:
    gateway = '[gateway]\npayload_version = "1.0"\n\n[gateway.authorizers.bearer]\nhandler = "a:b"\n'
    text = f"{VALID}\n{gateway}ttl_seconds = 99999\n"
    path = write_config(text)
    message = _problem(capsys, path)
    assert message.startswith(
        f"{path}:{line_of(text, '[gateway.authorizers.bearer]')}: gateway.authorizers.bearer: "
    )
    assert "ttl_seconds" in message


def test_a_bad_environment_override_names_the_variable(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config()
    monkeypatch.setenv("TESSERA_ISSUER", "http://id.example/")
    message = _problem(capsys, path)
    assert message.startswith("TESSERA_ISSUER (environment") and "loopback" in message


def test_where_the_file_is_found(
    capsys: pytest.CaptureFixture[str],
    write_config: WriteConfig,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    other = write_config(name="other.toml")
    monkeypatch.chdir(tmp_path)
    code = main(["config", "check"])
    assert (
        code == 2 and capsys.readouterr().err.strip() == f"error: {tmp_path / 'tessera.toml'}: no such file"
    )
    write_config()
    code, out, _ = _check(capsys)
    assert code == 0 and out.startswith(f"{tmp_path / 'tessera.toml'}: ok")
    assert _check(capsys, "--config", str(other))[1].startswith(f"{other}: ok")
    monkeypatch.setenv("TESSERA_CONFIG", str(other))
    assert _check(capsys)[1].startswith(f"{other}: ok")


def test_no_traceback_from_the_real_command(write_config: WriteConfig) -> None:
    path = write_config(replaced("signup = true", "signup = [1, 2]"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    result = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "config", "check", str(path)],
        capture_output=True,
        check=False,
        text=True,
        env=env,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"{path}:4: provider.signup: must be true or false"
    missing = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "config", "check", str(path.with_name("nope.toml"))],
        capture_output=True,
        check=False,
        text=True,
        env=env,
    )
    assert (
        missing.returncode == 2
        and missing.stderr.strip() == f"error: {path.with_name('nope.toml')}: no such file"
    )
