"""TOTP in Chromium: enrol on the account page with a code computed from the key the page shows,
then sign-ins that ask for the app's code, then for a recovery code, which works only once.

Each sign-in is a ``dev-spa`` authorization code flow that must end at its loopback callback
with a code (redeemed at ``/token``); every page passed is screenshotted.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import Page
from playwright.sync_api import Response as PageResponse

from tessera.testing.devserver import DevServer

from .support import Callback, Shot, authorize_url, mail_mark, outbox_code, pkce, redeem, submit

EMAIL = "dave@example.com"


def _first_factor(page: Page, server: DevServer, shot: Shot, name: str) -> PageResponse:
    """Type the email, then the mailed code (after the dev resend slot, when one was asked for just now)."""
    mark = mail_mark(server)
    page.fill("#email", EMAIL)
    sent = submit(page, "button[type=submit]")
    if sent.status == 429:
        time.sleep(int(sent.headers.get("retry-after", "5")))
        page.fill("#email", EMAIL)
        sent = submit(page, "button[type=submit]")
    assert sent.status == 200 and urlsplit(page.url).path == "/signin/code", page.inner_text("body")
    shot(page, f"{name}-code-form")
    page.fill("#code", outbox_code(server, EMAIL, mark))
    return submit(page, "button[type=submit]")


def _sign_out(page: Page, server: DevServer, shot: Shot, name: str) -> None:
    page.goto(f"{server.issuer}/logout")
    shot(page, f"{name}-sign-out")
    assert submit(page, "button[type=submit]").status == 200
    assert "You are signed out" in page.inner_text("body")


def _second_step(
    page: Page, server: DevServer, callback: Callback, shot: Shot, name: str
) -> tuple[str, PageResponse]:
    """Start a ``dev-spa`` request and pass the email code; (the PKCE verifier, the TOTP page's answer)."""
    verifier, challenge = pkce()
    page.goto(authorize_url(server, callback.redirect_uri, challenge))
    assert urlsplit(page.url).path == "/signin"
    shot(page, f"{name}-email-form")
    asked = _first_factor(page, server, shot, name)
    shot(page, f"{name}-totp-form")
    assert urlsplit(page.url).path == "/signin/totp" and asked.status == 200
    assert page.inner_text("h1") == "Enter your authenticator code"
    return verifier, asked


def _ends_at_the_callback(
    page: Page, server: DevServer, callback: Callback, shot: Shot, *, name: str, verifier: str
) -> None:
    landed = submit(page, "button[type=submit]")
    shot(page, f"{name}-callback")
    assert landed.status == 200 and page.url.startswith(callback.redirect_uri + "?")
    assert redeem(server, callback.params()["code"], verifier, callback.redirect_uri)


def test_enrol_then_sign_in_with_the_app_then_with_a_recovery_code_once(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    shot(page, "first-email-form")
    _first_factor(page, dev, shot, "first")
    shot(page, "first-callback")
    assert page.url.startswith(callback.redirect_uri + "?")

    page.goto(f"{dev.issuer}/account")
    shot(page, "account")
    assert submit(page, "#totp button[type=submit]").status == 200
    shot(page, "enrol")
    assert page.locator("#totp-qr svg").count() == 1
    secret = page.inner_text("#totp-secret").replace(" ", "")
    app = pyotp.TOTP(secret)
    page.fill("#code", app.now())
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "recovery-codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.goto(f"{dev.issuer}/account")
    shot(page, "account-enrolled")
    assert "Two-step verification is on" in page.inner_text("#totp")
    _sign_out(page, dev, shot, "app")

    verifier, _ = _second_step(page, dev, callback, shot, "app")
    page.fill("#code", app.at(time.time() + 30))  # the next step: the enrolment used this one
    _ends_at_the_callback(page, dev, callback, shot, name="app", verifier=verifier)
    _sign_out(page, dev, shot, "recovery")

    verifier, _ = _second_step(page, dev, callback, shot, "recovery")
    page.fill("#code", codes[0])
    _ends_at_the_callback(page, dev, callback, shot, name="recovery", verifier=verifier)
    _sign_out(page, dev, shot, "reused")

    _second_step(page, dev, callback, shot, "reused")
    before = callback.total()
    page.fill("#code", codes[0])
    refused = submit(page, "button[type=submit]")
    shot(page, "reused-refused")
    assert refused.status == 400 and urlsplit(page.url).path == "/signin/totp"
    assert "That code is not valid" in page.inner_text("[role=alert]")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert callback.total() == before
