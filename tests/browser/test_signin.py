"""Signing in through the hosted pages in Chromium: email, code, back at the loopback callback."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.sync_api import BrowserContext, Page

from tessera.issue.cookies import FORGED_FORM
from tessera.testing import LocalHTTPServer, Response
from tessera.testing.devserver import DevServer

from .support import (
    Callback,
    Shot,
    authorize_url,
    mail_mark,
    outbox,
    outbox_code,
    pkce,
    redeem,
    sign_in,
    submit,
)


def test_dev_spa_signs_in_and_the_code_redeems(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, state="st-1"))
    assert urlsplit(page.url).path == "/signin"
    shot(page, "email-form")
    landed = sign_in(page, dev, "alice@example.com", shot)
    shot(page, "callback")
    assert landed.status == 200
    assert page.url.startswith(callback.redirect_uri + "?")
    params = callback.params()
    assert params["state"] == "st-1"
    assert params["iss"] == dev.issuer
    access = redeem(dev, params["code"], verifier, callback.redirect_uri)
    hello = httpx.get(f"{dev.issuer}/demo/hello", headers={"Authorization": f"Bearer {access}"})
    assert hello.status_code == 200
    assert hello.json()["subject"].startswith("usr_")


def test_a_wrong_code_is_shown_on_the_page_then_the_right_one_signs_in(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    mark = mail_mark(dev)
    page.fill("#email", "bob@example.com")
    assert submit(page, "button[type=submit]").status == 200
    code = outbox_code(dev, "bob@example.com", mark)
    page.fill("#code", code[:-1] + str((int(code[-1]) + 1) % 10))
    refused = submit(page, "button[type=submit]")
    shot(page, "wrong-code")
    assert refused.status == 400
    assert urlsplit(page.url).path == "/signin/code"
    assert "code is not valid" in page.inner_text(".error")
    assert callback.total() == 0
    page.fill("#code", code)
    landed = submit(page, "button[type=submit]")
    shot(page, "callback")
    assert landed.status == 200
    assert page.url.startswith(callback.redirect_uri)
    assert redeem(dev, callback.params()["code"], verifier, callback.redirect_uri)


def _mails_to(dev: DevServer, email: str) -> int:
    return sum(m["to"] == email for m in outbox(dev))


def test_a_form_posted_from_another_origin_is_refused_and_the_genuine_one_passes(
    dev: DevServer, context: BrowserContext, page: Page, shot: Shot
) -> None:
    """WEB-08 in a browser: the attacker even holds this browser's form token."""
    _, challenge = pkce()
    page.goto(authorize_url(dev, "http://127.0.0.1:9/callback", challenge))
    stolen = {name: page.input_value(f"input[name={name}]") for name in ("csrf", "request")}
    hidden = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in stolen.items())
    form = (
        f'<form method="post" action="{dev.issuer}/signin">{hidden}'
        '<input type="hidden" name="email" value="carol@example.com"><button>Win a prize</button></form>'
    )
    html = "text/html"
    with LocalHTTPServer() as attacker:
        attacker.routes["/page"] = Response(200, f"<!doctype html>{form}".encode(), {"Content-Type": html})
        # no-referrer makes the browser send `Origin: null`, which is refused too
        null_origin = f'<!doctype html><meta name="referrer" content="no-referrer">{form}'
        attacker.routes["/null"] = Response(200, null_origin.encode(), {"Content-Type": html})
        for name, url in [
            ("same-site", f"http://localhost:{attacker.port}/page"),
            ("cross-site", f"http://127.0.0.1:{attacker.port}/page"),
            ("null-origin", f"http://localhost:{attacker.port}/null"),
        ]:
            evil = context.new_page()
            evil.goto(url)
            refused = submit(evil, "button")
            shot(evil, f"refused-{name}")
            assert refused.status == 403, name
            assert FORGED_FORM in evil.inner_text("body")
            evil.close()
    mark = mail_mark(dev)
    page.fill("#email", "carol@example.com")
    sent = submit(page, "button[type=submit]")
    shot(page, "genuine")
    assert sent.status == 200
    assert urlsplit(page.url).path == "/signin/code"
    outbox_code(dev, "carol@example.com", mark)  # the genuine mail; the queue sends oldest first,
    assert _mails_to(dev, "carol@example.com") == 1  # so a mail queued by a forged POST came before
