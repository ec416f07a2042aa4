"""Linking from the account page: prove the account first, then the upstream identity; unlink."""

from __future__ import annotations

import logging
import re

import pytest

from tessera.testing.idp import ProviderHarness
from tessera.testing.upstream import FakeUpstream

from .harness import Walk, refused


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_a_signed_in_user_links_then_unlinks_an_upstream_identity(
    idp: ProviderHarness, corp: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "tessera.audit")
    corp.person = {"sub": "up-alice", "email": "alice@corp.example", "email_verified": False}
    idp.sign_in(idp.authorize_params())  # alice proves her account with an emailed code
    page = idp.browser.get("/account/upstreams")
    assert page.status_code == 200 and "alice@example.com" in page.text
    assert "No other sign-in is linked" in page.text
    started = idp.browser.post("/upstream/corp/link", data={"csrf": _csrf(page.text)})
    assert started.status_code == 303, started.text
    walk = Walk(idp, idp.browser)
    back = walk.callback(walk.at_upstream(started.headers["location"]))
    assert back.status_code == 303 and back.headers["location"].endswith("/account/upstreams")
    link = idp.store.find_upstream_link("corp", "up-alice")
    assert link is not None and link.user_id == "usr_alice"
    page = idp.browser.get("/account/upstreams")
    assert "Corp SSO" in page.text and "alice@corp.example" in page.text
    # Now the upstream identity signs in as alice, though its email is neither hers nor verified.
    other = Walk(idp, idp.new_browser())
    tokens = other.sign_in()
    assert tokens["access_token"]
    unlinked = idp.browser.post(
        "/upstream/corp/unlink", data={"csrf": _csrf(page.text), "subject": "up-alice"}
    )
    assert unlinked.status_code == 303
    assert idp.store.find_upstream_link("corp", "up-alice") is None
    assert '"event": "upstream_linked"' in caplog.text and '"event": "upstream_unlinked"' in caplog.text


def test_linking_needs_the_account_pages_form_token(idp: ProviderHarness, corp: FakeUpstream) -> None:
    idp.sign_in(idp.authorize_params())
    forged = idp.browser.post("/upstream/corp/link", data={"csrf": "forged"})
    assert forged.status_code == 403
    cross_site = idp.browser.post(
        "/upstream/corp/link",
        data={"csrf": _csrf(idp.browser.get("/account/upstreams").text)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    signed_out = idp.new_browser().post("/upstream/corp/link", data={"csrf": "x"})
    assert signed_out.status_code == 403
    genuine = idp.browser.post(
        "/upstream/corp/link", data={"csrf": _csrf(idp.browser.get("/account/upstreams").text)}
    )
    assert genuine.status_code == 303


def test_an_identity_linked_to_one_user_cannot_be_linked_to_another(
    idp: ProviderHarness, corp: FakeUpstream
) -> None:
    Walk(idp, idp.new_browser()).sign_in()  # carol's identity makes (and links) her account
    idp.sign_in(idp.authorize_params())  # alice, in the main browser
    page = idp.browser.get("/account/upstreams")
    started = idp.browser.post("/upstream/corp/link", data={"csrf": _csrf(page.text)})
    walk = Walk(idp, idp.browser)
    refused(walk.callback(walk.at_upstream(started.headers["location"])), "already linked to another account")
    assert idp.store.upstream_links_of("usr_alice") == ()
