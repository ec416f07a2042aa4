"""Passkeys in Chromium with CDP's virtual authenticator, against a real ``tessera dev``.

Sign in by email code, add a passkey on the account page, sign out, then sign in with the
passkey: once with the "Sign in with a passkey" button, once through the email field's
autofill (``mediation: "conditional"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page

from tessera.testing.devserver import DevServer

from .support import Shot, sign_in, submit

EMAIL = "carol@example.com"


@pytest.fixture
def authenticator(context: BrowserContext, page: Page) -> Iterator[CDPSession]:
    """A virtual platform authenticator (resident keys, user verification) attached to ``page``."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    cdp.authenticator_id = added["authenticatorId"]  # type: ignore[attr-defined]
    yield cdp
    cdp.detach()


# Records, across navigations, the mediation of every navigator.credentials.get() the page makes.
RECORD_MEDIATION = """
(() => {
  const get = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = (options) => {
    const seen = JSON.parse(sessionStorage.getItem("mediations") || "[]");
    seen.push((options && options.mediation) || "modal");
    sessionStorage.setItem("mediations", JSON.stringify(seen));
    return get(options);
  };
})();
"""
# A browser without passkey autofill: the button is then the only way to use a passkey.
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def _mediations(page: Page) -> list[str]:
    seen: list[str] = page.evaluate("JSON.parse(sessionStorage.getItem('mediations') || '[]')")
    return seen


def _presence(authenticator: CDPSession, enabled: bool) -> None:
    authenticator.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": authenticator.authenticator_id, "enabled": enabled},  # type: ignore[attr-defined]
    )


def _sign_out(page: Page, dev: DevServer, shot: Shot) -> None:
    page.goto(f"{dev.issuer}/logout")
    shot(page, "sign-out")
    assert submit(page, "button[type=submit]").status == 200
    shot(page, "signed-out")


def _on_account_page(page: Page) -> None:
    page.wait_for_url("**/account")
    assert f"Signed in as {EMAIL}" in page.inner_text("body")


def test_add_a_passkey_then_sign_in_with_autofill_and_with_the_button(
    dev: DevServer, page: Page, authenticator: CDPSession, shot: Shot
) -> None:
    page.add_init_script(RECORD_MEDIATION)
    page.goto(f"{dev.issuer}/account")
    assert urlsplit(page.url).path == "/signin"
    shot(page, "sign-in")
    assert page.is_visible("#passkey-button")
    assert page.get_attribute("#email", "autocomplete") == "username webauthn"
    landed = sign_in(page, dev, EMAIL, shot)
    assert landed.status == 200
    _on_account_page(page)
    shot(page, "account-no-passkeys")
    assert "You have no passkeys yet" in page.inner_text("body")

    page.fill("#passkey-name", "Virtual laptop")
    with page.expect_navigation():
        page.click("#passkey-add-button")
    _on_account_page(page)
    shot(page, "account-with-passkey")
    assert "Virtual laptop" in page.inner_text(".passkeys")
    assert "last used never" in page.inner_text(".passkeys")
    stored = authenticator.send(
        "WebAuthn.getCredentials",
        {"authenticatorId": authenticator.authenticator_id},  # type: ignore[attr-defined]
    )["credentials"]
    assert len(stored) == 1
    assert stored[0]["isResidentCredential"] is True
    assert stored[0]["rpId"] == "localhost"

    # Autofill: the sign-in page asks for a conditional credential as it loads; the virtual
    # authenticator answers it with its one discoverable passkey as soon as the user is
    # "present", as a user picking it from the email field's suggestions would. (Held back
    # once, for the screenshot of the page; headless Chromium draws no suggestion list.)
    _sign_out(page, dev, shot)
    _presence(authenticator, False)
    page.goto(f"{dev.issuer}/signin?then=account")
    assert urlsplit(page.url).path == "/signin"
    shot(page, "sign-in-autofill")
    _presence(authenticator, True)
    page.reload()
    _on_account_page(page)
    shot(page, "account-after-autofill")
    assert "last used never" not in page.inner_text(".passkeys")
    assert _mediations(page)[-1] == "conditional"
    assert "modal" not in _mediations(page)

    # The button, in a browser without autofill.
    _sign_out(page, dev, shot)
    page.add_init_script(NO_AUTOFILL)
    page.goto(f"{dev.issuer}/signin?then=account")
    assert urlsplit(page.url).path == "/signin"
    shot(page, "sign-in-button")
    with page.expect_navigation():
        page.click("#passkey-button")
    _on_account_page(page)
    shot(page, "account-after-button")
    assert _mediations(page)[-1] == "modal"

    # A passkey the authenticator no longer holds: an error on the page, and no sign-in.
    _sign_out(page, dev, shot)
    authenticator.send(
        "WebAuthn.clearCredentials",
        {"authenticatorId": authenticator.authenticator_id},  # type: ignore[attr-defined]
    )
    page.goto(f"{dev.issuer}/signin?then=account")
    page.click("#passkey-button")
    page.wait_for_selector("#passkey-error:not([hidden])")
    shot(page, "sign-in-no-passkey")
    assert page.inner_text("#passkey-error") == "No passkey was used."
    assert urlsplit(page.url).path == "/signin"


def test_rename_and_remove_passkeys_on_the_account_page(
    dev: DevServer, page: Page, authenticator: CDPSession, shot: Shot
) -> None:
    page.goto(f"{dev.issuer}/signin?then=account")
    shot(page, "sign-in")
    sign_in(page, dev, "dave@example.com", shot)
    page.wait_for_url("**/account")
    shot(page, "account")
    for name in ("Old name", "Spare"):
        # one authenticator holds one credential per account (the options exclude the known ones)
        authenticator.send(
            "WebAuthn.clearCredentials",
            {"authenticatorId": authenticator.authenticator_id},  # type: ignore[attr-defined]
        )
        page.fill("#passkey-name", name)
        with page.expect_navigation():
            page.click("#passkey-add-button")
        page.wait_for_url("**/account")
    shot(page, "account-two-passkeys")
    page.fill("#name-1", "Work laptop")
    with page.expect_navigation():
        page.click("form[action='/account/passkeys/rename'] >> nth=0 >> button")
    shot(page, "account-renamed")
    listed = page.inner_text(".passkeys")
    assert "Work laptop" in listed
    assert "Old name" not in listed
    with page.expect_navigation():
        page.click("text=Remove Spare")
    shot(page, "account-one-removed")
    assert "Spare" not in page.inner_text(".passkeys")
    with page.expect_navigation():
        page.click("text=Remove Work laptop")  # the last one: allowed, the sign-in is recent
    shot(page, "account-none-left")
    assert "You have no passkeys yet" in page.inner_text("body")
