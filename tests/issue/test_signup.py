"""Self sign-up (``ProviderSettings.signup``) and the provider's name on its pages and mails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.store import User
from tessera.testing.idp import ProviderHarness, query_of
from tessera.testing.signin import SignInFailed


def test_without_signup_an_unknown_address_gets_no_code_and_no_account(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path)
    with pytest.raises(SignInFailed, match="no sign-in code in the outbox"):
        idp.sign_in(idp.authorize_params(), "carol@example.com")
    assert idp.store.find_user_by_email("carol@example.com") is None


def test_with_signup_an_unknown_address_signs_in_and_gets_an_account(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, signup=True)
    callback = idp.sign_in(idp.authorize_params(), "Carol@Example.com")
    assert "code" in query_of(callback)
    carol = idp.store.find_user_by_email("carol@example.com")
    assert carol is not None and carol.email_verified and carol.roles == ()
    again = idp.new_browser()
    second = idp.sign_in(idp.authorize_params(), "carol@example.com", browser=again)
    assert "code" in query_of(second)
    assert idp.store.find_user_by_email("carol@example.com") == carol  # the same account, not a second one


def test_signup_does_not_revive_a_disabled_account(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, signup=True)
    idp.store.put_user(User("usr_dan", "dan@example.com", True, "Dan", (), disabled=True))
    with pytest.raises(SignInFailed, match="the code form answered 403"):  # "This account cannot sign in."
        idp.sign_in(idp.authorize_params(), "dan@example.com")
    user = idp.store.find_user_by_email("dan@example.com")
    assert user is not None and user.disabled


def test_the_provider_name_is_on_the_pages_and_in_the_mail(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, name="Orders & Co")
    start = idp.authorize(idp.authorize_params())
    page = idp.browser.get(start.headers["location"])
    assert "<title>Sign in · Orders &amp; Co</title>" in page.text
    idp.sign_in(idp.authorize_params(), "bob@example.com", browser=idp.new_browser())
    assert "Your Orders & Co sign-in code" in idp.mail_stream.getvalue()
    plain = ProviderHarness(tmp_path / "plain")
    start = plain.authorize(plain.authorize_params())
    assert "· Tessera</title>" in plain.browser.get(start.headers["location"]).text
