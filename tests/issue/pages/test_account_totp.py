"""The account page's authenticator-app section over HTTP: enrol, confirm, remove, new recovery codes.

Each change is shown refused when it should be (stale session, forged form, wrong code) and
accepted when genuine; the codes are computed with pyotp from the secret the page shows.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from starlette.testclient import TestClient

from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import run_sign_in

from ..totp_steps import ALICE, at_client, hidden_fields, now_code, submit_totp, totp_page

FRESH_SECONDS = 600


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    harness = ProviderHarness(tmp_path)
    yield harness
    harness.close()


def _account(idp: ProviderHarness, browser: TestClient) -> Any:
    """Sign in (by email code) for the account page; the page."""
    idp.clock.advance(31)
    page = run_sign_in(browser, f"{idp.issuer}/signin?then=account", ALICE.email, issuer=idp.issuer)
    assert page.status_code == 200 and str(page.url).endswith("/account"), page.text
    return page


def _form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', page, re.S)
    assert match is not None, f"no form for {action}"
    return hidden_fields(match.group(1))


def _enrol(idp: ProviderHarness, browser: TestClient) -> tuple[pyotp.TOTP, Any]:
    """Press "Set up"; the app (from the secret shown as text) and the enrolment page."""
    page = browser.get("/account").text
    shown = browser.post("/account/totp/enrol", data=_form(page, "/account/totp/enrol"))
    assert shown.status_code == 200, shown.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', shown.text)
    assert secret is not None
    return pyotp.TOTP(secret.group(1).replace(" ", "")), shown


def _confirm(browser: TestClient, page: Any, code: str) -> Any:
    return browser.post(
        "/account/totp/confirm", data={**_form(page.text, "/account/totp/confirm"), "code": code}
    )


def _codes(page: Any) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page.text)


def test_enrol_shows_the_secret_as_qr_and_text_and_a_first_code_turns_it_on(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    account = _account(idp, idp.browser)
    assert "Set up an authenticator app" in account.text
    app, shown = _enrol(idp, idp.browser)
    assert "<svg" in shown.text and "<script" not in shown.text
    assert "script-src 'self'" in shown.headers["content-security-policy"]
    assert "no-store" in shown.headers["cache-control"]
    uri = re.search(r'<a id="totp-uri" href="([^"]+)"', shown.text)
    assert uri is not None
    otpauth = urlsplit(html.unescape(uri.group(1)))
    assert otpauth.scheme == "otpauth" and parse_qs(otpauth.query)["secret"] == [app.secret]
    assert not idp.provider.totp.enrolled(ALICE.user_id)  # not before a first code
    wrong = _confirm(idp.browser, shown, "000000" if now_code(idp, app) != "000000" else "111111")
    assert wrong.status_code == 400 and "That code is not valid" in wrong.text
    assert app.secret.encode() not in wrong.content  # the secret is shown once, not again
    done = _confirm(idp.browser, wrong, now_code(idp, app))
    assert done.status_code == 200, done.text
    codes = _codes(done)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert idp.provider.totp.enrolled(ALICE.user_id)
    assert "Two-step verification is on" in idp.browser.get("/account").text
    assert '"event": "totp_enrolled"' in caplog.text
    # The next sign-in asks for the app's code.
    idp.clock.advance(30)
    other = idp.new_browser()
    page, _ = totp_page(idp, other)
    assert str(page.url).endswith("/signin/totp")
    at_client(other, submit_totp(other, now_code(idp, app)))


def test_changes_need_a_recent_sign_in_and_come_back_after_one(idp: ProviderHarness) -> None:
    _account(idp, idp.browser)
    stale_page = idp.browser.get("/account").text
    idp.clock.advance(FRESH_SECONDS + 1)
    account = idp.browser.get("/account").text
    assert "To set up an authenticator app" in account and "/account/totp/enrol" not in account
    refused = idp.browser.post("/account/totp/enrol", data=_form(stale_page, "/account/totp/enrol"))
    assert refused.status_code == 403 and "sign in again" in refused.text.lower()
    assert idp.store.get_totp(ALICE.user_id) is None
    _account(idp, idp.browser)  # signing in again makes the session recent
    app, shown = _enrol(idp, idp.browser)
    assert _confirm(idp.browser, shown, now_code(idp, app)).status_code == 200
    enrolled = idp.browser.get("/account").text
    idp.clock.advance(FRESH_SECONDS + 1)
    for action in ("/account/totp/remove", "/account/totp/recovery-codes"):
        stale = idp.browser.post(action, data=_form(enrolled, action))
        assert stale.status_code == 403, action
    assert idp.provider.totp.enrolled(ALICE.user_id)


def test_remove_after_a_fresh_sign_in_with_the_second_factor(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    _account(idp, idp.browser)
    app, shown = _enrol(idp, idp.browser)
    _confirm(idp.browser, shown, now_code(idp, app))
    idp.clock.advance(FRESH_SECONDS + 1)
    browser = idp.new_browser()
    idp.clock.advance(31)
    asked = run_sign_in(browser, f"{idp.issuer}/signin?then=account", ALICE.email, issuer=idp.issuer)
    assert str(asked.url).endswith("/signin/totp")
    done = submit_totp(browser, now_code(idp, app))
    assert done.status_code == 303 and done.headers["location"] == "/account"
    page = browser.get("/account").text
    forged = browser.post("/account/totp/remove", data={"csrf": "forged"})
    assert forged.status_code == 403 and idp.provider.totp.enrolled(ALICE.user_id)
    removed = browser.post("/account/totp/remove", data=_form(page, "/account/totp/remove"))
    assert removed.status_code == 303 and removed.headers["location"] == "/account"
    assert idp.store.get_totp(ALICE.user_id) is None
    assert '"event": "totp_removed"' in caplog.text
    again, _ = totp_page(idp, idp.new_browser())
    assert again.status_code == 302  # no second step any more


def test_new_recovery_codes_replace_the_old_ones(idp: ProviderHarness) -> None:
    _account(idp, idp.browser)
    app, shown = _enrol(idp, idp.browser)
    old = _codes(_confirm(idp.browser, shown, now_code(idp, app)))
    page = idp.browser.get("/account").text
    new_page = idp.browser.post(
        "/account/totp/recovery-codes", data=_form(page, "/account/totp/recovery-codes")
    )
    assert new_page.status_code == 200
    new = _codes(new_page)
    assert len(new) == 10 and not set(new) & set(old)
    browser = idp.new_browser()
    totp_page(idp, browser)
    assert submit_totp(browser, old[0]).status_code == 400
    at_client(browser, submit_totp(browser, new[0]))


def test_the_section_needs_a_session(idp: ProviderHarness) -> None:
    stranger = idp.new_browser()
    first = stranger.get("/account")
    assert first.status_code == 303 and "/signin" in first.headers["location"]
    page = stranger.get("/signin").text
    posted = stranger.post("/account/totp/enrol", data=hidden_fields(page))
    assert posted.status_code == 303 and "/signin" in posted.headers["location"]
    assert idp.store.get_totp(ALICE.user_id) is None
