"""Magic links and SMS codes in Chromium against a real ``tessera dev``.

The link opened in the browser that asked signs in; the same link opened in a second browser
profile signs nobody in there and still works where it was asked for. An SMS code is read from
the dev outbox (the dev SMS sender keeps texts there) and signs in.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page

from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import DevServer
from tessera.testing.signin import wait_for_mail

from .support import Callback, Shot, authorize_url, mail_mark, outbox, pkce, redeem, submit

_LINK = re.compile(r"(http\S+/signin/link\?\S+)")
_SMS_CODE = re.compile(r"sign-in code is ([0-9]{6}|[0-9]{12})\b")
CAROL_PHONE = "+447400123456"


def _ask_for_link(page: Page, dev: DevServer, email: str, shot: Shot) -> str:
    """Type ``email`` on the sign-in page; the magic link the mail brought."""
    mark = mail_mark(dev)
    page.fill("#email", email)
    assert submit(page, "button[type=submit]").status == 200
    assert urlsplit(page.url).path == "/signin/code"
    shot(page, "code-or-link")
    mail = wait_for_mail(lambda: outbox(dev), email, after=mark)
    found = _LINK.search(str(mail["text"]))
    assert found is not None, mail["text"]
    return found.group(1)


def test_a_magic_link_opened_in_the_asking_browser_signs_in(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, state="st-link"))
    shot(page, "email-form")
    link = _ask_for_link(page, dev, "alice@example.com", shot)
    landed = page.goto(link)
    assert landed is not None and landed.status == 200
    assert "token" not in page.url
    shot(page, "confirm-link")
    done = submit(page, "button[type=submit]")
    shot(page, "callback")
    assert done.status == 200
    assert page.url.startswith(callback.redirect_uri + "?")
    params = callback.params()
    assert params["state"] == "st-link"
    assert redeem(dev, params["code"], verifier, callback.redirect_uri)


def test_the_same_link_in_a_second_browser_signs_nobody_in_there(
    dev: DevServer, page: Page, chromium: Browser, callback: Callback, shot: Shot
) -> None:
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    link = _ask_for_link(page, dev, "bob@example.com", shot)
    elsewhere = chromium.new_context()
    try:
        other = elsewhere.new_page()
        answer = other.goto(link)
        assert answer is not None and answer.status == 200
        shot(other, "second-browser")
        assert "browser where you asked" in other.inner_text("body")
        assert other.locator("form").count() == 0
        assert not [c for c in elsewhere.cookies() if c["name"].endswith("tessera-session")]
    finally:
        elsewhere.close()
    # Nothing was consumed there: the asking browser still signs in with the same link.
    page.goto(link)
    shot(page, "confirm-link")
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "callback")
    assert page.url.startswith(callback.redirect_uri + "?")
    assert "code" in callback.params()


def test_an_sms_code_from_the_dev_outbox_signs_in(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    store = SQLiteStore(dev.data / "tessera.db")
    carol = store.find_user_by_email("carol@example.com")
    assert carol is not None
    store.put_user(replace(carol, phone=CAROL_PHONE))
    store.close()
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, state="st-sms"))
    shot(page, "email-form")
    with page.expect_navigation():
        page.click("text=Use your phone instead")
    shot(page, "phone-form")
    page.fill("#phone", "12345")
    refused = submit(page, "button[type=submit]")
    assert refused.status == 400
    assert page.get_attribute("#phone", "aria-invalid") == "true"
    assert "country code" in page.inner_text("#phone-error")
    shot(page, "phone-invalid")
    mark = mail_mark(dev)
    page.fill("#phone", "+44 7400 123 456")
    assert submit(page, "button[type=submit]").status == 200
    assert urlsplit(page.url).path == "/signin/phone/code"
    shot(page, "sms-code-form")
    text = wait_for_mail(lambda: outbox(dev), CAROL_PHONE, after=mark)
    found = _SMS_CODE.search(str(text["text"]))
    assert found is not None
    page.fill("#code", found.group(1))
    done = submit(page, "button[type=submit]")
    shot(page, "callback")
    assert done.status == 200
    assert page.url.startswith(callback.redirect_uri + "?")
    params = callback.params()
    assert params["state"] == "st-sms"
    assert redeem(dev, params["code"], verifier, callback.redirect_uri)
