"""Self sign-up (``ProviderSettings.signup``) and the provider's name on its pages and mails."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera.store import User
from tessera.testing.idp import ProviderHarness, query_of
from tessera.testing.signin import SignInFailed

_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request)" value="([^"]*)">')

Harness = Callable[..., ProviderHarness]


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """Build providers with the given settings; each is closed (its mail sender stopped) after the test."""
    built: list[ProviderHarness] = []

    def build(folder: str = "idp", **settings: Any) -> ProviderHarness:
        built.append(ProviderHarness(tmp_path / folder, **settings))
        return built[-1]

    yield build
    for idp in built:
        idp.close()


def _ask_for_a_code(idp: ProviderHarness, email: str) -> None:
    """Open the sign-in page and submit ``email``; wait until the mail queue is empty."""
    start = idp.authorize(idp.authorize_params())
    page = idp.browser.get(start.headers["location"])
    fields = dict(_HIDDEN.findall(page.text))
    posted = idp.browser.post("/signin", data={**fields, "email": email})
    assert posted.status_code == 303, posted.text
    idp.settle_mail()


def _mails_to(idp: ProviderHarness, email: str) -> list[Any]:
    return [m for m in idp.outbox.messages() if m["to"] == email]


def test_without_signup_an_unknown_address_gets_no_code_and_no_account(harness: Harness) -> None:
    idp = harness()
    _ask_for_a_code(idp, "carol@example.com")
    assert _mails_to(idp, "carol@example.com") == []
    assert idp.store.find_user_by_email("carol@example.com") is None


def test_with_signup_an_unknown_address_signs_in_and_gets_an_account(harness: Harness) -> None:
    idp = harness(signup=True)
    callback = idp.sign_in(idp.authorize_params(), "Carol@Example.com")
    assert "code" in query_of(callback)
    carol = idp.store.find_user_by_email("carol@example.com")
    assert carol is not None and carol.email_verified and carol.roles == ()
    second = idp.sign_in(idp.authorize_params(), "carol@example.com", browser=idp.new_browser())
    assert "code" in query_of(second)
    assert idp.store.find_user_by_email("carol@example.com") == carol  # the same account, not a second one


def test_signup_does_not_revive_a_disabled_account(harness: Harness) -> None:
    idp = harness(signup=True)
    idp.store.put_user(User("usr_dan", "dan@example.com", True, "Dan", (), disabled=True))
    with pytest.raises(SignInFailed, match="the code form answered 403"):  # "This account cannot sign in."
        idp.sign_in(idp.authorize_params(), "dan@example.com")
    user = idp.store.find_user_by_email("dan@example.com")
    assert user is not None and user.disabled


def test_the_provider_name_is_on_the_pages_and_in_the_mail(harness: Harness) -> None:
    idp = harness(name="Orders & Co")
    start = idp.authorize(idp.authorize_params())
    page = idp.browser.get(start.headers["location"])
    assert "<title>Sign in · Orders &amp; Co</title>" in page.text
    idp.sign_in(idp.authorize_params(), "bob@example.com", browser=idp.new_browser())
    assert _mails_to(idp, "bob@example.com")[0]["subject"] == "Your Orders & Co sign-in code"
    plain = harness("plain")
    start = plain.authorize(plain.authorize_params())
    assert "· Tessera</title>" in plain.browser.get(start.headers["location"]).text
