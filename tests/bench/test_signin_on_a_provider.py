"""The sign-in load job against a real ``tessera dev``, and its ledger catching codes left unspent."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tessera.store.url import migrate_store
from tessera.testing.devserver import DevServer
from tessera.testing.signin import code_in, newest_mail_id, sign_in_via_outbox, wait_for_mail

from .modules import bench_module

ledger = bench_module("signin_ledger")
signin_load = bench_module("signin_load")
load_users = bench_module("load_users")

USERS = 20
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request)" value="([^"]*)">')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("signin-bench")
    url = f"sqlite:///{root / 'tessera.db'}"
    migrate_store(url)
    with DevServer(users=("alice@example.com",), data=root) as running:
        load_users.load(url, USERS, stream=_Quiet())
        yield running


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _job(server: DevServer, sign_ins: int) -> dict[str, Any]:
    return {
        "kind": "signin",
        "issuer": server.issuer,
        "outbox": str(Path(server.data) / "outbox.db"),
        "client_id": "dev-spa",
        "redirect_uri": ledger.REDIRECT_URI,
        "scope": "openid offline_access",
        "email_format": load_users.EMAIL_FORMAT,
        "users": USERS,
        "address_offset": secrets.randbelow(10**6),
        "clients": 2,
        "seconds": 120,
        "warmup_seconds": 0,
        "max_requests": sign_ins,
    }


def _authorization_url(server: DevServer, verifier: str) -> str:
    params = {
        "response_type": "code",
        "client_id": "dev-spa",
        "redirect_uri": ledger.REDIRECT_URI,
        "scope": "openid offline_access",
        "state": secrets.token_urlsafe(8),
        "code_challenge": signin_load.s256(verifier),
        "code_challenge_method": "S256",
    }
    return f"{server.issuer}/authorize?{urlencode(params)}"


def _unspent_email_code(server: DevServer, email: str) -> dict[str, str]:
    """A sign-in stopped once the code arrived: its cookies, form fields and code, not yet entered."""
    with httpx.Client(base_url=server.issuer, timeout=30, follow_redirects=True) as browser:
        page = browser.get(_authorization_url(server, secrets.token_urlsafe(48)))
        fields = dict(_HIDDEN.findall(page.text))
        before = newest_mail_id(browser.get("/dev/outbox").json())
        code_page = browser.post("/signin", data={**fields, "email": email})
        code = code_in(wait_for_mail(lambda: browser.get("/dev/outbox").json(), email, after=before))
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
        return {"cookie": cookie, **dict(_HIDDEN.findall(code_page.text)), "code": code}


def _unredeemed_authorization_code(server: DevServer, email: str) -> dict[str, str]:
    verifier = secrets.token_urlsafe(48)
    with httpx.Client(timeout=30) as browser:
        url = _authorization_url(server, verifier)
        callback = sign_in_via_outbox(browser, url, email, issuer=server.issuer)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    return {"authorization_code": code, "code_verifier": verifier}


async def test_sign_ins_under_load_leave_a_clean_ledger(server: DevServer) -> None:
    result = await signin_load.run_signin_job(_job(server, 4))

    assert result["errors"] == 0, result["error_samples"]
    assert result["signins"] == len(result["records"]) == result["started"] == result["mails"] == 4
    assert set(result["steps"]) == {*signin_load.STEPS, "mail"}
    replays = ledger.replay_signins(server.issuer, result["records"])
    assert replays == [{"refresh": "redeemed", "code": "refused", "authorization_code": "refused"}] * 4
    assert ledger.signin_problems(result, replays) == []


async def test_codes_left_unspent_are_caught_by_the_replay(server: DevServer) -> None:
    result = await signin_load.run_signin_job(_job(server, 1))
    genuine = result["records"][0]
    planted = {
        **genuine,
        **_unspent_email_code(server, "alice@example.com"),
        **_unredeemed_authorization_code(server, load_users.EMAIL_FORMAT.format(USERS - 1)),
    }

    replays = ledger.replay_signins(server.issuer, [planted])

    assert replays == [{"refresh": "redeemed", "code": "accepted", "authorization_code": "accepted"}]
    assert ledger.signin_problems({**result, "records": [planted]}, replays) == [
        "1 code replays not refused: ['accepted']",
        "1 authorization_code replays not refused: ['accepted']",
    ]
