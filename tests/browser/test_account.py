"""The account page in Chromium: sessions, applications with access, and deleting the account.

A new address signs up by email code (``tessera dev`` has sign-up on), a second browser signs
in to the same account, and the first signs it out; dev-partner is allowed, then its access
removed on the page (its refresh token dies); then the account is deleted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Page

from tessera.issue.dev.provider import DEV_RESEND_SECONDS
from tessera.testing.devserver import DevServer

from .conftest import TIMEOUT_MS
from .support import SCOPE, Callback, Shot, authorize_url, pkce, sign_in, submit

EMAIL = "zoe@example.com"  # not a dev user: signing in with it signs up
OTHER_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _sessions(page: Page) -> list[str]:
    """Each listed session's browser (and "This browser"), in the page's order."""
    return [text.split(" signed in ")[0].strip() for text in page.locator("#sessions li").all_inner_texts()]


def _partner_tokens(page: Page, dev: DevServer, callback: Callback, shot: Shot) -> dict[str, str]:
    """Allow dev-partner (offline access) in ``page``'s session; its token response."""
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, client_id="dev-partner", scope=SCOPE))
    assert urlsplit(page.url).path == "/consent"
    shot(page, "consent")
    submit(page, "button[value=approve]")
    code = callback.params()["code"]
    answer = httpx.post(
        f"{dev.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "dev-partner",
            "code_verifier": verifier,
            "redirect_uri": callback.redirect_uri,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


def _refresh(dev: DevServer, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{dev.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "dev-partner"},
        timeout=10,
    )


def test_sessions_applications_and_deleting_the_account(
    dev: DevServer, chromium: Browser, page: Page, callback: Callback, shot: Shot
) -> None:
    page.goto(f"{dev.issuer}/signin?then=account")
    shot(page, "email-form")
    landed = sign_in(page, dev, EMAIL, shot)
    assert landed.status == 200 and urlsplit(page.url).path == "/account"
    shot(page, "account-new")
    assert EMAIL in page.inner_text("body")
    assert _sessions(page) == ["Chrome on Linux This browser"]

    second = chromium.new_context(user_agent=OTHER_BROWSER)
    second.set_default_timeout(TIMEOUT_MS)
    try:
        other = second.new_page()
        # the same account from the same address: past the dev resend interval, or the form says wait
        other.wait_for_timeout(DEV_RESEND_SECONDS * 1000)
        other.goto(f"{dev.issuer}/signin?then=account")
        sign_in(other, dev, EMAIL)
        assert urlsplit(other.url).path == "/account"
        shot(other, "second-browser-account")

        page.reload()
        shot(page, "two-sessions")
        assert _sessions(page) == ["Chrome on Linux This browser", "Firefox on Windows"]
        submit(page, "#sessions form[action='/account/sessions/end'] button")
        shot(page, "other-signed-out")
        assert _sessions(page) == ["Chrome on Linux This browser"]
        other.goto(f"{dev.issuer}/account")
        shot(other, "second-browser-signed-out")
        assert urlsplit(other.url).path == "/signin"
    finally:
        second.close()

    tokens = _partner_tokens(page, dev, callback, shot)
    rotated = _refresh(dev, tokens["refresh_token"])
    assert rotated.status_code == 200  # the refresh token works before its access is removed
    page.goto(f"{dev.issuer}/account")
    shot(page, "application-listed")
    assert "Development third-party app" in page.inner_text("#applications")
    submit(page, "#applications button")
    shot(page, "application-removed")
    assert "No application has access" in page.inner_text("#applications")
    refused = _refresh(dev, rotated.json()["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"

    page.click("text=Delete your account…")
    page.wait_for_url(f"{dev.issuer}/account/delete")
    shot(page, "delete-form")
    page.fill("#confirm-email", "someone@example.com")
    submit(page, "button.danger")
    shot(page, "delete-wrong-email")
    assert page.get_attribute("#confirm-email", "aria-invalid") == "true"
    page.fill("#confirm-email", EMAIL)
    deleted = submit(page, "button.danger")
    shot(page, "deleted")
    assert deleted.status == 200 and "Your account was deleted" in page.inner_text("h1")
    page.goto(f"{dev.issuer}/account")
    shot(page, "after-deletion")
    assert urlsplit(page.url).path == "/signin"
    userinfo = httpx.get(
        f"{dev.issuer}/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    )
    assert userinfo.status_code == 401
