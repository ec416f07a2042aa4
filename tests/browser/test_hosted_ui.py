"""The hosted pages as a person uses them, in Chromium against a real ``tessera dev``: by keyboard
alone, with the errors announced, "use another email" and "send a new code", the configured name,
logo and templates, dark mode, and a phone-sized screen."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, ViewportSize

from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import DevServer
from tessera.testing.signin import wait_for_mail

from ..docs.markdown import code_blocks
from .conftest import DevServers
from .support import Callback, Shot, authorize_url, mail_mark, outbox, outbox_code, pkce, redeem, submit

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
DAVE_PHONE = "+447400654321"
PHONE: ViewportSize = {"width": 390, "height": 844}


def _focused(page: Page) -> str:
    """The focused element, as ``tag#id`` or ``tag:text``."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : ':' + e.textContent.trim()); }"
        )
    )


def _press(page: Page, key: str) -> int:
    """Press ``key`` where the focus is, expecting a navigation; its status."""
    with page.expect_navigation() as navigation:
        page.keyboard.press(key)
    response = navigation.value
    assert response is not None
    return response.status


def _background(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor"))


def _no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_keyboard_alone_signs_in_to_the_client_with_a_logical_tab_order(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, state="st-keys"))
    shot(page, "email-form")
    assert _focused(page) == "input#email"  # the form's field has the focus on arrival
    mark = mail_mark(dev)
    page.keyboard.type("dave@example.com")
    page.keyboard.press("Tab")
    assert _focused(page) == "button:Email me a code"
    outline = page.eval_on_selector(":focus", "e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    shot(page, "email-focus-ring")
    page.keyboard.press("Shift+Tab")
    assert _press(page, "Enter") == 200  # Enter in the field submits: the primary button is the submit
    assert urlsplit(page.url).path == "/signin/code"
    shot(page, "code-form")
    assert _focused(page) == "input#code"
    order = []
    for _ in range(3):
        page.keyboard.press("Tab")
        order.append(_focused(page))
    assert order == ["button:Sign in", "a#another-address", "button#resend"]
    page.keyboard.press("Tab")
    assert _focused(page) not in order  # no trap: the focus leaves the last control
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if _focused(page) == "input#code":
            break
    assert _focused(page) == "input#code"
    page.keyboard.type(outbox_code(dev, "dave@example.com", mark))
    assert _press(page, "Enter") == 200
    shot(page, "callback")
    assert page.url.startswith(callback.redirect_uri + "?")
    params = callback.params()
    assert params["state"] == "st-keys"
    assert redeem(dev, params["code"], verifier, callback.redirect_uri)


def test_a_wrong_code_is_announced_and_tied_to_the_field(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    _, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge))
    shot(page, "email-form")
    mark = mail_mark(dev)
    page.fill("#email", "carol@example.com")
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "code-form")
    assert page.get_attribute("#code", "aria-invalid") is None
    assert page.locator("[role=alert]").count() == 0
    code = outbox_code(dev, "carol@example.com", mark)
    page.fill("#code", code[:-1] + str((int(code[-1]) + 1) % 10))
    assert submit(page, "button[type=submit]").status == 400
    shot(page, "wrong-code")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    described = page.get_attribute("#code", "aria-describedby")
    assert described
    message = page.locator(f"#{described}")
    assert message.get_attribute("role") == "alert"
    assert message.inner_text().startswith("That code is not valid.")
    accessible = page.evaluate(
        "() => document.getElementById(document.getElementById('code')"
        ".getAttribute('aria-describedby')).textContent"
    )
    assert accessible == message.inner_text()
    assert page.get_by_role("alert").count() == 1


def test_use_another_email_then_send_a_new_code(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, state="st-again"))
    shot(page, "email-form")
    page.fill("#email", "typo@exampel.com")
    assert submit(page, "button[type=submit]").status == 200
    assert page.inner_text("#address") == "typo@exampel.com"
    shot(page, "code-form-typo")
    assert submit(page, "#another-address").status == 200
    shot(page, "email-form-again")
    assert urlsplit(page.url).path == "/signin"
    page.fill("#email", "bob@example.com")
    first_mark = mail_mark(dev)
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "code-form")
    assert page.inner_text("#address") == "bob@example.com"
    first = outbox_code(dev, "bob@example.com", first_mark)
    too_soon = submit(page, "#resend")
    shot(page, "resend-too-soon")
    assert too_soon.status == 429
    alert = page.inner_text("#page-error")
    assert alert.startswith("A code was sent moments ago, so no new code was sent.")
    wait = int(too_soon.headers["retry-after"])
    assert 1 <= wait <= 6  # tessera dev's resend interval is 5 s
    time.sleep(wait)
    second_mark = mail_mark(dev)
    assert submit(page, "#resend").status == 200
    shot(page, "resent")
    assert page.get_by_role("status").inner_text().startswith("A new code is on its way.")
    second = outbox_code(dev, "bob@example.com", second_mark)
    assert second != first
    page.fill("#code", second)
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "callback")
    assert page.url.startswith(callback.redirect_uri + "?")
    assert callback.params()["state"] == "st-again"
    assert redeem(dev, callback.params()["code"], verifier, callback.redirect_uri)


def test_the_phone_pages_show_the_number_use_another_and_send_a_new_code(
    dev: DevServer, page: Page, callback: Callback, shot: Shot
) -> None:
    store = SQLiteStore(dev.data / "tessera.db")
    dave = store.find_user_by_email("dave@example.com")
    assert dave is not None
    store.put_user(replace(dave, phone=DAVE_PHONE))
    store.close()
    verifier, challenge = pkce()
    page.goto(authorize_url(dev, callback.redirect_uri, challenge, state="st-phone"))
    assert submit(page, "text=Use your phone instead").status == 200
    shot(page, "phone-form")
    page.fill("#phone", "+44 7400 000000")
    assert submit(page, "button[type=submit]").status == 200
    assert page.inner_text("#address") == "+447400000000"
    shot(page, "phone-code-form-wrong-number")
    assert submit(page, "#another-address").status == 200
    assert urlsplit(page.url).path == "/signin/phone"
    page.fill("#phone", "+44 7400 654 321")
    assert submit(page, "button[type=submit]").status == 200
    assert page.inner_text("#address") == DAVE_PHONE
    time.sleep(6)  # past tessera dev's 5 s resend interval
    mark = mail_mark(dev)
    assert submit(page, "#resend").status == 200
    shot(page, "phone-code-resent")
    assert page.get_by_role("status").inner_text().startswith("A new code is on its way.")
    text = wait_for_mail(lambda: outbox(dev), DAVE_PHONE, after=mark)
    found = re.search(r"sign-in code is ([0-9]{6}|[0-9]{12})\b", str(text["text"]))
    assert found is not None
    page.fill("#code", found.group(1))
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "callback")
    assert callback.params()["state"] == "st-phone"
    assert redeem(dev, callback.params()["code"], verifier, callback.redirect_uri)


def test_dark_mode_follows_the_system(dev: DevServer, page: Page, shot: Shot) -> None:
    page.goto(f"{dev.issuer}/signin")
    light = (_background(page, "body"), _background(page, "main"))
    shot(page, "light")
    page.emulate_media(color_scheme="dark")
    dark = (_background(page, "body"), _background(page, "main"))
    shot(page, "dark")
    assert light[0] != dark[0] and light[1] != dark[1]
    assert dark[0] == "rgb(17, 19, 24)"


def test_a_phone_screen_has_one_column_and_no_sideways_scroll(
    chromium: Browser, dev: DevServer, callback: Callback, shot: Shot
) -> None:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
    page = context.new_page()
    try:
        _, challenge = pkce()
        page.goto(authorize_url(dev, callback.redirect_uri, challenge))
        shot(page, "phone-email-form")
        assert _no_horizontal_scroll(page)
        button = page.locator("button[type=submit]").bounding_box()
        assert button is not None and button["height"] >= 44 and button["width"] >= 300
        page.fill("#email", "a-rather-long-address-that-might-overflow@subdomain.example.com")
        assert submit(page, "button[type=submit]").status == 200
        shot(page, "phone-code-form")
        assert _no_horizontal_scroll(page)
        page.goto(f"{dev.issuer}/authorize?client_id=nobody")
        shot(page, "phone-error-page")
        assert _no_horizontal_scroll(page)
    finally:
        context.close()


def _branded_config(root: Path) -> Path:
    brand = root / "brand"
    templates = brand / "templates"
    templates.mkdir(parents=True)
    (brand / "logo.png").write_bytes(PNG)
    jinja = next(b for b in code_blocks("config.md", "jinja") if "signin_email.html" in b.code)
    (templates / "signin_email.html").write_text(jinja.code)
    config = root / "tessera.toml"
    config.write_text(
        '[provider]\nname = "Orders & Co"\nlogo = "brand/logo.png"\ntemplates = "brand/templates"\n'
    )
    return config


def test_the_configured_name_logo_and_templates_are_on_the_pages(
    start_dev: DevServers, page: Page, callback: Callback, shot: Shot, tmp_path: Path
) -> None:
    """The name and logo from tessera.toml, and the docs' example override of the email page."""
    server = start_dev("--config", str(_branded_config(tmp_path)))
    _, challenge = pkce()
    page.goto(authorize_url(server, callback.redirect_uri, challenge))
    shot(page, "branded-email-form")
    assert page.title() == "Sign in · Orders & Co"
    assert page.inner_text(".brand-name") == "Orders & Co"
    loaded = page.eval_on_selector(".brand img.logo", "img => img.complete && img.naturalWidth > 0")
    assert loaded is True
    assert page.inner_text("main p.note").startswith("Use the address you gave when you ordered.")
    page.fill("#email", "alice@example.com")
    assert submit(page, "button[type=submit]").status == 200  # the override keeps the form working
    shot(page, "branded-code-form")
    assert page.title() == "Enter your code · Orders & Co"
    assert "Use the address you gave" not in page.inner_text("main")  # only that page is replaced
