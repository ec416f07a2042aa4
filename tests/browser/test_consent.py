"""The consent page of a third-party client (dev-partner) in Chromium: Deny, then Allow."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page

from tessera.testing.devserver import DevServer

from .support import Callback, Shot, authorize_url, pkce, redeem, sign_in, submit


def test_dev_partner_consent_deny_then_allow(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    url = authorize_url(dev, callback.redirect_uri, challenge, client_id="dev-partner", state="p-1")
    page.goto(url)
    shot(page, "email-form")
    asked = sign_in(page, dev, "carol@example.com", shot)
    shot(page, "consent")
    assert asked.status == 200
    assert urlsplit(page.url).path == "/consent"
    assert "Development third-party app" in page.inner_text("h1")
    assert callback.total() == 0

    submit(page, "button[value=deny]")
    shot(page, "denied")
    assert page.url.startswith(callback.redirect_uri)
    denied = callback.params()
    assert denied["error"] == "access_denied"
    assert denied["state"] == "p-1"
    assert "code" not in denied

    page.goto(url)  # still signed in; a denial recorded nothing, so the page asks again
    assert urlsplit(page.url).path == "/consent"
    shot(page, "consent-again")
    submit(page, "button[value=approve]")
    shot(page, "allowed")
    allowed = callback.params()
    assert allowed["state"] == "p-1"
    assert allowed["iss"] == dev.issuer
    access = redeem(dev, allowed["code"], verifier, callback.redirect_uri, client_id="dev-partner")
    hello = httpx.get(f"{dev.issuer}/demo/hello", headers={"Authorization": f"Bearer {access}"})
    assert hello.status_code == 200
