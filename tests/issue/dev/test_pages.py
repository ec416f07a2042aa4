"""``tessera dev``'s start page, its Sign in button to ``/dev/callback`` and the outbox as HTML: a
real ``tessera dev`` process on a fresh data directory (so the seeded dev user), driven by
Chromium through Playwright, and the refusals over plain HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tessera.testing.devserver import DevServer
from tessera.testing.signin import Mails, code_in, newest_mail_id, run_sign_in, wait_for_mail

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(users=()) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _outbox(server: DevServer) -> Callable[[], Mails]:
    return lambda: httpx.get(f"{server.issuer}/dev/outbox").json()


def test_the_start_page_signs_the_seeded_user_in_and_shows_the_tokens(
    server: DevServer, chromium: object
) -> None:
    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{server.issuer}/")
    assert page.locator("h1").inner_text() == "tessera dev"
    assert page.get_by_text("dev-service", exact=True).count() == 1
    assert page.get_by_text(f"{server.issuer}/demo/hello").count() == 1
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/signin\?.*"))
    page.fill("#email", "dev@example.com")
    before = newest_mail_id(_outbox(server)())
    page.get_by_role("button", name="Email me a code").click()
    page.wait_for_url(re.compile(r".*/signin/code.*"))
    page.fill("#code", code_in(wait_for_mail(_outbox(server), "dev@example.com", after=before)))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/dev/callback\?.*"))
    assert page.locator("h1").inner_text() == "Signed in"
    header = json.loads(page.locator("#access-header").inner_text())
    claims = json.loads(page.locator("#access-claims").inner_text())
    id_claims = json.loads(page.locator("#id-claims").inner_text())
    assert header["typ"] == "at+jwt"
    assert claims["iss"] == server.issuer
    assert claims["client_id"] == "dev-spa"
    assert "demo:read" in claims["scope"].split()
    assert id_claims["email"] == "dev@example.com"
    token = page.locator("#access-token").inner_text().strip()
    hello = httpx.get(f"{server.issuer}/demo/hello", headers={"Authorization": f"Bearer {token}"})
    assert hello.status_code == 200
    assert hello.json()["subject"] == claims["sub"]
    # the outbox as a page, with the mail that carried the code
    page.goto(f"{server.issuer}/dev/outbox.html")
    assert page.get_by_text("to dev@example.com", exact=False).count() >= 1
    assert "sign-in code is" in page.locator("pre").first.inner_text()
    assert problems == []  # no CSP violation, no script error
    context.close()


def test_the_outbox_stays_json(server: DevServer) -> None:
    response = httpx.get(f"{server.issuer}/dev/outbox")
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json(), list)


def _started(browser: httpx.Client, server: DevServer) -> dict[str, str]:
    started = browser.get(f"{server.issuer}/dev/login")
    assert started.status_code == 303
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
    assert query["redirect_uri"] == f"{server.issuer}/dev/callback"
    assert query["code_challenge_method"] == "S256"
    return query


def test_the_callback_refuses_a_forged_state_or_another_issuer(server: DevServer) -> None:
    cases = (
        ("forged", server.issuer, "does not belong to a sign-in started here"),
        (None, "https://attacker.example", "names another issuer"),
        (None, None, "names another issuer"),
    )
    for state, iss, message in cases:
        with httpx.Client() as browser:
            query = _started(browser, server)
            params = {"code": "x", "state": state or query["state"], **({"iss": iss} if iss else {})}
            answer = browser.get(f"{server.issuer}/dev/callback?{urlencode(params)}")
            assert answer.status_code == 400
            assert message in answer.text
            assert "access-token" not in answer.text
    with httpx.Client() as stranger:  # no cookie at all: a callback this browser never started
        answer = stranger.get(
            f"{server.issuer}/dev/callback?{urlencode({'code': 'x', 'state': query['state']})}"
        )
        assert answer.status_code == 400


def test_the_genuine_callback_shows_tokens_once(server: DevServer) -> None:
    with httpx.Client() as browser:
        query = _started(browser, server)
        authorize = f"{server.issuer}/authorize?{urlencode(query)}"
        shown = run_sign_in(browser, authorize, "dev@example.com", issuer=server.issuer)
        assert str(shown.url).startswith(f"{server.issuer}/dev/callback?")
        assert shown.status_code == 200
        assert 'id="access-token"' in shown.text
        again = browser.get(shown.url)  # the login cookie is spent: a replay shows nothing
        assert again.status_code == 400
        assert 'id="access-token"' not in again.text
