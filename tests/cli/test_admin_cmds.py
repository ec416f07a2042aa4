"""``tessera clients`` and ``tessera users``: a data directory's clients and users, seen by a running
``tessera dev`` without a restart."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tessera.cli import main as cli_main
from tessera.issue.dev.provider import dev_provider
from tessera.testing.devserver import DevServer
from tessera.testing.signin import sign_in_by_text, sign_in_via_outbox


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(users=["alice@example.com"]) as running:
        yield running


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _service_token(server: DevServer, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{server.issuer}/token",
        data={"grant_type": "client_credentials", "scope": "demo:read"},
        auth=(client_id, secret),
    )


def test_a_client_added_is_usable_at_once_and_gone_once_removed(
    server: DevServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(server.data)
    code, out, _ = _run(
        capsys, "clients", "add", "reports", "--grant", "client_credentials", "--scope", "demo:read",
        "--data", data, "--json",
    )  # fmt: skip
    assert code == 0
    added = json.loads(out)
    secret = added["client_secret"]
    assert added["type"] == "confidential"
    assert _service_token(server, "reports", secret).status_code == 200
    assert _service_token(server, "reports", secret + "x").status_code == 401
    code, out, _ = _run(capsys, "clients", "list", "--data", data, "--json")
    listed = {c["client_id"]: c for c in json.loads(out)}
    assert {"dev-spa", "dev-service", "dev-partner", "reports"} <= set(listed)
    assert secret not in out
    assert "secret_hash" not in listed["reports"]
    assert "client_secret" not in listed["reports"]
    # a new secret replaces the old one, on the running server too
    code, out, _ = _run(capsys, "clients", "reset-secret", "reports", "--data", data)
    assert code == 0
    new_secret = out.split("shown once): ")[1].strip()
    assert _service_token(server, "reports", secret).status_code == 401
    assert _service_token(server, "reports", new_secret).status_code == 200
    assert _run(capsys, "clients", "remove", "reports", "--data", data)[0] == 0
    assert _service_token(server, "reports", new_secret).status_code == 401


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _user_token(server: DevServer, email: str) -> str:
    verifier, challenge = _pkce()
    redirect = "http://127.0.0.1:9/callback"
    query = {
        "client_id": "dev-spa", "redirect_uri": redirect, "response_type": "code", "state": "s",
        "scope": "openid demo:read", "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    with httpx.Client() as browser:
        callback = sign_in_via_outbox(
            browser, f"{server.issuer}/authorize?{urlencode(query)}", email, issuer=server.issuer
        )
    code = parse_qs(urlsplit(callback).query)["code"][0]
    tokens = httpx.post(
        f"{server.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": "dev-spa",
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    token: str = tokens.json()["access_token"]
    return token


def test_a_user_added_signs_in_at_once_with_the_roles_set_later(
    server: DevServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(server.data)
    code, out, _ = _run(capsys, "users", "add", "dana@example.com", "--data", data, "--json")
    assert code == 0
    assert json.loads(out)["roles"] == []
    admin = f"{server.issuer}/demo/admin"
    token = _user_token(server, "dana@example.com")
    assert httpx.get(admin, headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert _run(capsys, "users", "set-roles", "dana@example.com", "admin", "--data", data)[0] == 0
    token = _user_token(server, "dana@example.com")
    assert httpx.get(admin, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    code, out, _ = _run(capsys, "users", "list", "--data", data, "--json")
    assert {u["email"]: u["roles"] for u in json.loads(out)}["dana@example.com"] == ["admin"]
    before = _subject(token)
    assert _run(capsys, "users", "remove", "dana@example.com", "--data", data)[0] == 0
    assert "dana@example.com" not in _run(capsys, "users", "list", "--data", data)[1]
    # tessera dev allows sign-up: the address may sign in again, as a new user with nothing of the old
    token = _user_token(server, "dana@example.com")
    assert _subject(token) != before
    assert httpx.get(admin, headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_a_user_added_with_a_phone_signs_in_by_text_at_once(
    server: DevServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(server.data)
    code, out, _ = _run(
        capsys, "users", "add", "fay@example.com", "--phone", "+44 7400 900555", "--data", data, "--json"
    )
    assert code == 0 and json.loads(out)["phone"] == "+447400900555"
    code, out, _ = _run(capsys, "users", "list", "--data", data)
    assert "fay@example.com" in out and "phone: +447400900555" in out
    with httpx.Client() as browser:
        answer = sign_in_by_text(browser, "+447400900555", issuer=server.issuer)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin/done"
    code, _, err = _run(capsys, "users", "add", "gus@example.com", "--phone", "+447400900555", "--data", data)
    assert code == 2 and "another user has the phone +447400900555" in err


def test_a_phone_taken_between_the_check_and_the_write_is_one_line_and_status_2(
    server: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.store.sqlite import SQLiteStore

    data = str(server.data)
    assert _run(capsys, "users", "add", "hal@example.com", "--phone", "+447400900777", "--data", data)[0] == 0
    monkeypatch.setattr(
        SQLiteStore, "find_user_by_phone", lambda self, phone: None
    )  # the other writer is late
    code, out, err = _run(
        capsys, "users", "add", "ivy@example.com", "--phone", "+447400900777", "--data", data
    )
    assert (code, out) == (2, "") and err.strip() == "error: another user has the phone +447400900777"
    monkeypatch.undo()
    code, out, _ = _run(capsys, "users", "list", "--data", data)
    assert "hal@example.com" in out and "ivy@example.com" not in out


def _subject(token: str) -> str:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    subject: str = claims["sub"]
    return subject


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clients", "add", "web", "--type", "public", "--redirect-uri", "http://evil.example/cb"], "https"),
        (["clients", "add", "web", "--type", "public", "--grant", "client_credentials"], "public clients"),
        (["clients", "add", "web"], "--redirect-uri"),
        (["clients", "add", "usr_x", "--grant", "client_credentials"], "client_id"),
        (["clients", "add", "dev-spa", "--grant", "client_credentials"], "exists"),
        (["clients", "remove", "nobody"], "no client"),
        (["clients", "reset-secret", "dev-spa"], "has no secret"),
        (["users", "add", "not-an-email"], "not an email"),
        (["users", "add", "dev@example.com"], "exists"),
        (["users", "remove", "nobody@example.com"], "no user"),
        (["users", "set-roles", "dev@example.com", "a b"], "not a role"),
        (["users", "add", "erin@example.com", "--phone", "12345"], "not a valid phone number"),
        (["users", "add", "erin@example.com", "--phone", "+44 7400 12345x"], "not a valid phone number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_provider(tmp_path, "http://127.0.0.1:8000")
    before = _run(capsys, "clients", "list", "--data", str(tmp_path), "--json")[1]
    code, out, err = _run(capsys, *args, "--data", str(tmp_path))
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert message in err
    assert len(err.splitlines()) == 1
    assert _run(capsys, "clients", "list", "--data", str(tmp_path), "--json")[1] == before


@pytest.mark.parametrize("command", ["clients", "users"])
def test_a_missing_data_directory_is_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, command, "list", "--data", str(tmp_path / "none"))
    assert code == 2
    assert "tessera dev --data" in err
    (tmp_path / "tessera.db").write_text("garbage" * 200)
    code, _, err = _run(capsys, command, "list", "--data", str(tmp_path))
    assert code == 2
    assert "not a usable Tessera database" in err
