"""Signing out in Chromium: the confirmation page, and what the next authorization asks."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Page

from tessera.testing.devserver import DevServer

from .support import Callback, Shot, authorize_url, pkce, sign_in, submit


def _signed_in(dev: DevServer, page: Page, callback: Callback, email: str) -> None:
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    sign_in(page, dev, email)
    assert page.url.startswith(callback.redirect_uri)


def test_confirming_logout_signs_out_and_the_next_authorization_asks_to_sign_in(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    _signed_in(dev, page, callback, "alice@example.com")
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    assert page.url.startswith(callback.redirect_uri)  # the session answers without a page
    page.goto(f"{dev.issuer}/logout")
    shot(page, "confirm")
    assert page.inner_text("h1") == "Sign out?"
    done = submit(page, "button[type=submit]")
    shot(page, "signed-out")
    assert done.status == 200
    assert "You are signed out" in page.inner_text("body")
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    shot(page, "asked-again")
    assert urlsplit(page.url).path == "/signin"


def test_logout_returns_to_the_clients_registered_address(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    _signed_in(dev, page, callback, "bob@example.com")
    back = f"{callback.url}/"
    query = urlencode({"client_id": "dev-spa", "post_logout_redirect_uri": back, "state": "bye"})
    page.goto(f"{dev.issuer}/logout?{query}")
    shot(page, "confirm")
    landed = submit(page, "button[type=submit]")
    shot(page, "back-at-client")
    assert landed.status == 200
    assert page.url == f"{back}?state=bye"
    assert "/?state=bye" in callback.targets
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    assert urlsplit(page.url).path == "/signin"
