"""Sign-in by SMS code over HTTP: numbers validated, codes checked as email codes are, sends capped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from tessera.issue.app import create_app
from tessera.issue.provider import Provider
from tessera.issue.settings import ProviderSettings
from tessera.store import User
from tessera.testing.idp import ISSUER, SPA_REDIRECT, ProviderHarness, query_of
from tessera.testing.signin import newest_mail_id

CAROL = "+447400123456"
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
_CODE = re.compile(r"sign-in code is ([0-9]{6}|[0-9]{12})\b")


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """A dev provider (texts go to the dev outbox) with Carol, who has a phone number."""
    harness = ProviderHarness(tmp_path, sms_sends_per_hour_per_number=5, sms_sends_per_hour_per_country=12)
    harness.store.put_user(User("usr_carol", "carol@example.com", True, "Carol", (), phone=CAROL))
    yield harness
    harness.close()


def _phone_page(idp: ProviderHarness, browser: TestClient) -> dict[str, str]:
    """Open an authorization request and follow "Use your phone instead"; the phone form's fields."""
    start = idp.authorize(idp.authorize_params(), browser)
    email_page = browser.get(start.headers["location"])
    link = re.search(r'<a href="([^"]+)">Use your phone instead</a>', email_page.text)
    assert link is not None
    page = browser.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    return dict(_HIDDEN.findall(page.text))


def _ask(idp: ProviderHarness, browser: TestClient, phone: str) -> Any:
    idp.clock.advance(31)
    fields = _phone_page(idp, browser)
    return browser.post("/signin/phone", data={**fields, "phone": phone})


def _texts(idp: ProviderHarness, number: str, after: int) -> list[dict[str, Any]]:
    idp.settle_mail()
    return [dict(m) for m in idp.outbox.messages() if m["to"] == number and int(m["id"]) > after]


def _code_for(idp: ProviderHarness, number: str, after: int) -> str:
    texts = _texts(idp, number, after)
    assert len(texts) == 1, texts
    assert texts[0]["subject"] == "SMS"
    match = _CODE.search(str(texts[0]["text"]))
    assert match is not None
    return match.group(1)


def _submit_code(browser: TestClient, code: str, page_url: str = "/signin/phone/code") -> Any:
    page = browser.get(page_url)
    fields = dict(_HIDDEN.findall(page.text))
    return browser.post("/signin/phone/code", data={**fields, "code": code})


def test_a_code_texted_to_a_national_number_signs_in_and_ends_at_the_client(idp: ProviderHarness) -> None:
    before = newest_mail_id(idp.outbox.messages())
    asked = _ask(idp, idp.browser, "+44 (0)7400 123-456")
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/signin/phone/code?")
    code = _code_for(idp, CAROL, before)
    done = _submit_code(idp.browser, code, asked.headers["location"])
    assert done.status_code == 303
    cont = idp.browser.get(done.headers["location"])
    assert cont.headers["location"].startswith(SPA_REDIRECT)
    assert "code" in query_of(cont.headers["location"])


@pytest.mark.parametrize(
    "number",
    [
        "12345",
        "+44 123",
        "+447400123456 ext 5",
        "+\uff14\uff147400123456",
        "tel:+447400123456",
        "",
        "+" + "1" * 40,
    ],
)
def test_an_invalid_number_is_refused_on_the_form_with_a_clear_error(
    idp: ProviderHarness, number: str
) -> None:
    before = newest_mail_id(idp.outbox.messages())
    refused = _ask(idp, idp.browser, number)
    assert refused.status_code == 400
    assert "with its country code" in refused.text
    assert 'aria-invalid="true"' in refused.text and 'role="alert"' in refused.text
    assert "tessera-signin" not in refused.headers.get("set-cookie", "")
    assert _texts(idp, CAROL, before) == []


def test_a_national_number_needs_the_default_region(tmp_path: Path) -> None:
    harness = ProviderHarness(tmp_path, sms_default_region="GB")
    harness.store.put_user(User("usr_carol", "carol@example.com", True, "Carol", (), phone=CAROL))
    try:
        before = newest_mail_id(harness.outbox.messages())
        assert _ask(harness, harness.browser, "07400 123456").status_code == 303
        assert _texts(harness, CAROL, before)
    finally:
        harness.close()


def test_known_and_unknown_numbers_get_the_same_answer_and_only_the_known_one_a_text(
    idp: ProviderHarness,
) -> None:
    before = newest_mail_id(idp.outbox.messages())
    known = _ask(idp, idp.new_browser("192.0.2.1"), CAROL)
    unknown = _ask(idp, idp.new_browser("192.0.2.2"), "+447400123457")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"].split("?")[0] == unknown.headers["location"].split("?")[0]
    assert known.text == unknown.text
    assert [c.split("=")[0] for c in known.headers.get_list("set-cookie")] == [
        c.split("=")[0] for c in unknown.headers.get_list("set-cookie")
    ]
    assert _texts(idp, CAROL, before)
    assert _texts(idp, "+447400123457", before) == []


def test_a_wrong_code_is_refused_and_five_wrong_codes_kill_the_challenge(idp: ProviderHarness) -> None:
    before = newest_mail_id(idp.outbox.messages())
    _ask(idp, idp.browser, CAROL)
    code = _code_for(idp, CAROL, before)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert _submit_code(idp.browser, wrong).status_code == 400
    refused = _submit_code(idp.browser, code)
    assert refused.status_code == 400
    assert "tessera-session" not in refused.headers.get("set-cookie", "")


def test_a_code_works_once(idp: ProviderHarness) -> None:
    before = newest_mail_id(idp.outbox.messages())
    _ask(idp, idp.browser, CAROL)
    code = _code_for(idp, CAROL, before)
    signin = idp.browser.cookies.get("tessera-signin", domain="127.0.0.1")
    assert signin is not None
    assert _submit_code(idp.browser, code).status_code == 303
    idp.browser.cookies.delete("tessera-session")
    idp.browser.cookies.set("tessera-signin", signin, domain="127.0.0.1", path="/")
    assert _submit_code(idp.browser, code).status_code == 400


def test_an_email_challenge_cannot_sign_in_on_the_phone_page(idp: ProviderHarness) -> None:
    """A code mailed to Carol's address is no SMS code: the phone page looks users up by number only."""
    idp.clock.advance(31)
    start = idp.authorize(idp.authorize_params(), idp.browser)
    page = idp.browser.get(start.headers["location"])
    fields = dict(_HIDDEN.findall(page.text))
    before = newest_mail_id(idp.outbox.messages())
    assert idp.browser.post("/signin", data={**fields, "email": "carol@example.com"}).status_code == 303
    mail = idp.wait_for_mail("carol@example.com", after=before)
    match = _CODE.search(str(mail["text"]))
    assert match is not None
    assert _submit_code(idp.browser, match.group(1)).status_code == 403


def test_asking_again_within_the_resend_interval_is_throttled(idp: ProviderHarness) -> None:
    assert _ask(idp, idp.browser, CAROL).status_code == 303
    fields = _phone_page(idp, idp.browser)
    again = idp.browser.post("/signin/phone", data={**fields, "phone": CAROL})
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) > 0
    assert _ask(idp, idp.browser, CAROL).status_code == 303


def test_the_number_gets_at_most_its_hourly_texts_from_any_number_of_addresses(idp: ProviderHarness) -> None:
    before = newest_mail_id(idp.outbox.messages())
    answers = [_ask(idp, idp.new_browser(f"192.0.2.{i}"), CAROL).status_code for i in range(8)]
    assert answers == [303] * 5 + [429] * 3
    assert len(_texts(idp, CAROL, before)) == 5
    limited = _ask(idp, idp.new_browser("192.0.2.99"), CAROL)
    assert "Too many texts" in limited.text
    # The cap is per number: another number still gets its text, and the next hour this one does.
    assert _ask(idp, idp.new_browser("192.0.2.100"), "+447400123458").status_code == 303
    idp.clock.advance(3600)
    assert _ask(idp, idp.new_browser("192.0.2.101"), CAROL).status_code == 303


def test_a_country_gets_at_most_its_hourly_texts(idp: ProviderHarness) -> None:
    numbers = [f"+3361234{n:04d}" for n in range(14)]
    answers = [_ask(idp, idp.new_browser(f"192.0.2.{i}"), n).status_code for i, n in enumerate(numbers)]
    assert answers == [303] * 12 + [429] * 2
    # Another country is not held back by France's cap.
    assert _ask(idp, idp.new_browser("192.0.2.200"), CAROL).status_code == 303


def test_wrong_codes_from_one_address_spend_its_budget_on_the_number(idp: ProviderHarness) -> None:
    attacker = idp.new_browser("203.0.113.9")
    for _ in range(2):
        assert _ask(idp, attacker, CAROL).status_code == 303
        for _ in range(5):
            assert _submit_code(attacker, "000000").status_code in (400, 429)
    assert _ask(idp, attacker, CAROL).status_code == 429
    owner = idp.new_browser("198.51.100.7")
    before = newest_mail_id(idp.outbox.messages())
    assert _ask(idp, owner, CAROL).status_code == 303
    assert _submit_code(owner, _code_for(idp, CAROL, before)).status_code == 303


def test_the_phone_pages_are_not_served_without_an_sms_sender(idp: ProviderHarness) -> None:
    production = Provider(ProviderSettings(issuer=ISSUER), idp.store, idp.master, idp.outbox, clock=idp.clock)
    assert production.sms is None
    browser = TestClient(create_app(production), base_url=ISSUER, follow_redirects=False)
    assert browser.get(f"/signin/phone?{urlencode({'request': 'x'})}").status_code == 404
    start = browser.get(f"/authorize?{urlencode(idp.authorize_params())}")
    email_page = browser.get(start.headers["location"])
    assert email_page.status_code == 200 and "Use your phone" not in email_page.text
    production.outgoing.stop()
