"""Linking from the account page's "Linked sign-ins" section: prove the account first, then the upstream
identity; unlink (the last one only after a recent sign-in)."""

from __future__ import annotations

import logging
import re

import pytest

from tessera.testing.idp import ProviderHarness
from tessera.testing.upstream import FakeUpstream

from .harness import Walk, refused


def _csrf(page: str) -> str:
    """The form token of the account page's linked sign-ins section."""
    section = page.partition('<section id="linked-sign-ins">')[2]
    found = re.search(r'name="csrf" value="([^"]+)"', section)
    assert found, page
    return found.group(1)


def _link_corp(idp: ProviderHarness) -> None:
    """In the main browser (signed in), link the corp identity from the account page."""
    page = idp.browser.get("/account")
    started = idp.browser.post("/upstream/corp/link", data={"csrf": _csrf(page.text)})
    assert started.status_code == 303, started.text
    walk = Walk(idp, idp.browser)
    back = walk.callback(walk.at_upstream(started.headers["location"]))
    assert back.status_code == 303 and back.headers["location"].endswith("/account")


def test_a_signed_in_user_links_then_unlinks_an_upstream_identity(
    idp: ProviderHarness, corp: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "tessera.audit")
    corp.person = {"sub": "up-alice", "email": "alice@corp.example", "email_verified": False}
    idp.sign_in(idp.authorize_params())  # alice proves her account with an emailed code
    page = idp.browser.get("/account")
    assert page.status_code == 200 and "alice@example.com" in page.text
    assert "Linked sign-ins" in page.text and "No other sign-in is linked" in page.text
    assert "Link Corp SSO" in page.text
    # The form's POST ends at the upstream: the page's CSP lets it go there.
    assert corp.server.url in page.headers["content-security-policy"]
    _link_corp(idp)
    link = idp.store.find_upstream_link("corp", "up-alice")
    assert link is not None and link.user_id == "usr_alice"
    page = idp.browser.get("/account")
    assert "Corp SSO" in page.text and "alice@corp.example" in page.text
    assert "Unlink Corp SSO" in page.text and "Link Corp SSO" not in page.text
    # Now the upstream identity signs in as alice, though its email is neither hers nor verified.
    other = Walk(idp, idp.new_browser())
    tokens = other.sign_in()
    assert tokens["access_token"]
    unlinked = idp.browser.post(
        "/upstream/corp/unlink", data={"csrf": _csrf(page.text), "subject": "up-alice"}
    )
    assert unlinked.status_code == 303 and unlinked.headers["location"].endswith("/account")
    assert idp.store.find_upstream_link("corp", "up-alice") is None
    assert '"event": "upstream_linked"' in caplog.text and '"event": "upstream_unlinked"' in caplog.text


def test_linking_needs_the_account_pages_form_token(idp: ProviderHarness, corp: FakeUpstream) -> None:
    idp.sign_in(idp.authorize_params())
    forged = idp.browser.post("/upstream/corp/link", data={"csrf": "forged"})
    assert forged.status_code == 403
    cross_site = idp.browser.post(
        "/upstream/corp/link",
        data={"csrf": _csrf(idp.browser.get("/account").text)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    signed_out = idp.new_browser().post("/upstream/corp/link", data={"csrf": "x"})
    assert signed_out.status_code == 403
    genuine = idp.browser.post("/upstream/corp/link", data={"csrf": _csrf(idp.browser.get("/account").text)})
    assert genuine.status_code == 303


def test_an_identity_linked_to_one_user_cannot_be_linked_to_another(
    idp: ProviderHarness, corp: FakeUpstream
) -> None:
    Walk(idp, idp.new_browser()).sign_in()  # carol's identity makes (and links) her account
    idp.sign_in(idp.authorize_params())  # alice, in the main browser
    page = idp.browser.get("/account")
    started = idp.browser.post("/upstream/corp/link", data={"csrf": _csrf(page.text)})
    walk = Walk(idp, idp.browser)
    refused(walk.callback(walk.at_upstream(started.headers["location"])), "already linked to another account")
    assert idp.store.upstream_links_of("usr_alice") == ()


def test_the_old_linked_sign_ins_page_points_at_the_account_page(
    idp: ProviderHarness, corp: FakeUpstream
) -> None:
    moved = idp.browser.get("/account/upstreams")
    assert moved.status_code == 303 and moved.headers["location"].endswith("/account#linked-sign-ins")


def test_unlinking_the_last_linked_sign_in_needs_a_recent_sign_in(
    idp: ProviderHarness, corp: FakeUpstream
) -> None:
    corp.person = {"sub": "up-alice", "email": "alice@corp.example", "email_verified": False}
    idp.sign_in(idp.authorize_params())
    _link_corp(idp)
    idp.clock.advance(601)  # the session lives on, but its sign-in is no longer recent
    page = idp.browser.get("/account")
    stale = idp.browser.post("/upstream/corp/unlink", data={"csrf": _csrf(page.text), "subject": "up-alice"})
    assert stale.status_code == 403 and "sign in again" in stale.text.lower()
    assert idp.store.find_upstream_link("corp", "up-alice") is not None
    idp.sign_in(idp.authorize_params(prompt="login"))  # signs in again in the same browser
    page = idp.browser.get("/account")
    fresh = idp.browser.post("/upstream/corp/unlink", data={"csrf": _csrf(page.text), "subject": "up-alice"})
    assert fresh.status_code == 303, fresh.text
    assert idp.store.find_upstream_link("corp", "up-alice") is None


def test_one_of_several_linked_sign_ins_unlinks_without_signing_in_again(
    idp: ProviderHarness, corp: FakeUpstream
) -> None:
    corp.person = {"sub": "up-alice", "email": "alice@corp.example", "email_verified": False}
    idp.sign_in(idp.authorize_params())
    _link_corp(idp)
    corp.person = {"sub": "up-alice-2", "email": "alice2@corp.example", "email_verified": False}
    _link_corp(idp)
    idp.clock.advance(601)
    page = idp.browser.get("/account")
    unlinked = idp.browser.post(
        "/upstream/corp/unlink", data={"csrf": _csrf(page.text), "subject": "up-alice"}
    )
    assert unlinked.status_code == 303
    assert [link.subject for link in idp.store.upstream_links_of("usr_alice")] == ["up-alice-2"]


def test_without_upstreams_the_account_page_has_no_linked_sign_ins(idp: ProviderHarness) -> None:
    idp.sign_in(idp.authorize_params())
    page = idp.browser.get("/account")
    assert page.status_code == 200 and "Passkeys" in page.text
    assert "Linked sign-ins" not in page.text
