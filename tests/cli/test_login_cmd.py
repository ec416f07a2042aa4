"""``tessera login`` against a real ``tessera dev`` process: PKCE on a loopback redirect, checks of
``state`` and ``iss`` before the code is redeemed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tessera.testing.devserver import DevServer
from tessera.testing.signin import sign_in_via_outbox


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(users=["carol@example.com"]) as running:
        yield running


class Login:
    """A ``tessera login`` process and the authorization URL it printed."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tessera.cli", "login", "--no-browser", "--timeout", "60", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.url = ""
        for line in self.process.stderr:
            if line.strip().startswith("http"):
                self.url = line.strip()
                break
        assert self.url, "tessera login printed no URL"
        self.query = {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}

    def finish(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out, err


def test_login_gets_a_user_token_that_the_demo_api_accepts(server: DevServer) -> None:
    login = Login(
        "--issuer",
        server.issuer,
        "--client",
        "dev-spa",
        "--scope",
        "openid",
        "--scope",
        "demo:read",
        "--json",
    )
    assert login.query["code_challenge_method"] == "S256"
    assert login.query["redirect_uri"].startswith("http://127.0.0.1:")
    assert login.query["redirect_uri"].endswith("/callback")
    with httpx.Client() as browser:
        callback = sign_in_via_outbox(browser, login.url, "carol@example.com", issuer=server.issuer)
        assert callback.startswith(login.query["redirect_uri"] + "?")
        assert browser.get(callback).status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    tokens = json.loads(out)
    assert tokens["token_type"] == "Bearer"
    assert "demo:read" in tokens["scope"].split()
    assert "id_token" in tokens
    hello = httpx.get(
        f"{server.issuer}/demo/hello", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert hello.status_code == 200
    assert hello.json()["message"] == "hello"


def _deliver_forged(login: Login, **changes: str) -> tuple[int, str]:
    """Send the login's callback a code with ``changes`` to its parameters; its exit and stderr."""
    params = {"code": "whatever", "state": login.query["state"], "iss": "unused", **changes}
    response = httpx.get(f"{login.query['redirect_uri']}?{urlencode(params)}")
    assert response.status_code == 200
    code, _, err = login.finish()
    return code, err


def test_a_forged_state_is_refused_and_nothing_redeemed(server: DevServer) -> None:
    login = Login("--issuer", server.issuer, "--client", "dev-spa")
    code, err = _deliver_forged(login, state="forged", iss=server.issuer)
    assert code == 2
    assert "state" in err
    assert "Traceback" not in err


def test_a_callback_from_another_issuer_is_refused(server: DevServer) -> None:
    login = Login("--issuer", server.issuer, "--client", "dev-spa")
    code, err = _deliver_forged(login, iss="https://attacker.example")
    assert code == 2
    assert "https://attacker.example" in err
    login = Login("--issuer", server.issuer, "--client", "dev-spa")
    code, err = _deliver_forged(login, iss="")
    assert code == 2
    assert "issuer" in err


def test_a_wrong_issuer_or_a_bare_word_is_one_line(server: DevServer) -> None:
    for issuer, expected in ((server.issuer + "/", "not"), ("localhost", "http(s) URL")):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tessera.cli",
                "login",
                "--no-browser",
                "--issuer",
                issuer,
                "--client",
                "dev-spa",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_the_browser_opens_only_where_there_is_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    from tessera.cli.login_cmd import open_browser

    opened: list[str] = []

    def record(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", record)
    monkeypatch.setattr(sys, "platform", "linux")
    assert open_browser("http://127.0.0.1:1/authorize", {}) is False  # a console browser would block
    assert opened == []
    assert open_browser("http://127.0.0.1:1/authorize", {"DISPLAY": ":0"}) is True
    assert opened == ["http://127.0.0.1:1/authorize"]
    monkeypatch.setattr(sys, "platform", "darwin")
    assert open_browser("http://127.0.0.1:1/x", {}) is True
