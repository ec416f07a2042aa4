"""The provider's error pages in Chromium: a page that says what is wrong, never a 500 or a redirect
to an address the provider could not verify."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page

from tessera.issue.cookies import FORGED_FORM
from tessera.testing.devserver import DevServer

from .support import Callback, Shot, authorize_url, pkce, submit

_HEADING = "Something is wrong with this request"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(change, id=name)
        for name, change in [
            ("unknown-client", {"client_id": "no-such-client"}),
            ("unregistered-redirect", {"redirect_uri": "https://evil.example/callback"}),
            ("userinfo-in-redirect", {"redirect_uri": "http://127.0.0.1:80@evil.example/callback"}),
        ]
    ],
)
def test_an_unverifiable_authorization_request_gets_an_error_page(
    dev: DevServer, page: Page, callback: Callback, shot: Shot, change: dict[str, str]
) -> None:
    _, challenge = pkce()
    params = {"redirect_uri": callback.redirect_uri, **change}
    answer = page.goto(authorize_url(dev, params.pop("redirect_uri"), challenge, **params))
    shot(page, "error-page")
    assert answer is not None
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert urlsplit(page.url).netloc == urlsplit(dev.issuer).netloc
    assert page.inner_text("h1") == _HEADING
    assert callback.total() == 0


def test_a_repeated_parameter_gets_an_error_page(dev: DevServer, page: Page, shot: Shot) -> None:
    answer = page.goto(f"{dev.issuer}/authorize?client_id=dev-spa&client_id=dev-partner")
    shot(page, "repeated")
    assert answer is not None
    assert answer.status == 400
    assert page.inner_text("h1") == _HEADING


def test_an_unregistered_logout_address_gets_an_error_page(dev: DevServer, page: Page, shot: Shot) -> None:
    query = urlencode({"client_id": "dev-spa", "post_logout_redirect_uri": "https://evil.example/"})
    answer = page.goto(f"{dev.issuer}/logout?{query}")
    shot(page, "logout-elsewhere")
    assert answer is not None
    assert answer.status == 400
    assert "not registered" in page.inner_text(".error")


def test_a_form_whose_cookie_expired_gets_an_error_page_and_a_reload_works(
    dev: DevServer, context: BrowserContext, page: Page, callback: Callback, shot: Shot
) -> None:
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    context.clear_cookies()
    page.fill("#email", "dave@example.com")
    refused = submit(page, "button[type=submit]")
    shot(page, "expired")
    assert refused.status == 403
    assert FORGED_FORM in page.inner_text(".error")
    page.go_back()
    page.reload()
    page.fill("#email", "dave@example.com")
    sent = submit(page, "button[type=submit]")
    shot(page, "after-reload")
    assert sent.status == 200
    assert urlsplit(page.url).path == "/signin/code"


def test_an_error_the_client_can_handle_goes_back_to_it(
    dev: DevServer, page: Page, callback: Callback
) -> None:
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, scope="openid no-such-scope", state="e"))
    assert page.url.startswith(callback.redirect_uri)
    answer = callback.params()
    assert (answer["error"], answer["state"], answer["iss"]) == ("invalid_scope", "e", dev.issuer)
    assert "code" not in answer
