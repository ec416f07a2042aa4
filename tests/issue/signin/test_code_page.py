"""The email code page over HTTP: the address it went to (escaped), "use another email", "send a
new code" (a CSRF form, throttled as the first request), errors tied to their field, and 429s
that say when to come back."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import code_in

_FIELDS = re.compile(r'name="(csrf|request|then)" value="([^"]*)"')


def _fields(page: Any) -> dict[str, str]:
    return dict(_FIELDS.findall(page.text))


def _ask(idp: ProviderHarness, email: str, browser: TestClient | None = None) -> Any:
    client = browser or idp.browser
    form = client.get("/signin?request=&then=account")
    return client.post("/signin", data={**_fields(form), "email": email})


def _code_page(idp: ProviderHarness, browser: TestClient | None = None) -> Any:
    return (browser or idp.browser).get("/signin/code?request=&then=account")


def test_the_code_page_shows_the_address_escaped_with_a_link_to_use_another(idp: ProviderHarness) -> None:
    email = '"<b>x</b>"@example.com'
    assert _ask(idp, email).status_code == 303
    page = _code_page(idp)
    assert '<strong id="address">&#34;&lt;b&gt;x&lt;/b&gt;&#34;@example.com</strong>' in page.text
    assert "<b>x</b>" not in page.text
    assert (
        '<a id="another-address" href="/signin?request=&amp;then=account">Use another email</a>' in page.text
    )
    assert '<form method="post" action="/signin/code/resend">' in page.text


def test_the_address_shows_only_in_the_browser_that_asked(idp: ProviderHarness) -> None:
    assert _ask(idp, "alice@example.com").status_code == 303
    other = idp.new_browser()
    elsewhere = _code_page(idp, other)
    assert "alice@example.com" not in elsewhere.text
    assert "/signin/code/resend" not in elsewhere.text  # nowhere to send a new code from here
    assert "Use another email" in elsewhere.text


def test_an_address_cookie_from_another_sign_in_shows_nothing(idp: ProviderHarness) -> None:
    assert _ask(idp, "alice@example.com").status_code == 303
    stolen = idp.browser.cookies.get("tessera-address")
    assert stolen is not None
    idp.clock.advance(31)
    assert _ask(idp, "bob@example.com").status_code == 303
    assert "bob@example.com" in _code_page(idp).text  # the genuine cookie of this sign-in
    idp.browser.cookies.delete("tessera-address")
    idp.browser.cookies.set("tessera-address", stolen, domain="127.0.0.1")
    replayed = _code_page(idp)
    assert replayed.request.headers["cookie"].count("tessera-address=") == 1
    assert "alice@example.com" not in replayed.text and "bob@example.com" not in replayed.text


def test_send_a_new_code_mails_a_new_one_that_works_and_the_old_one_does_not(idp: ProviderHarness) -> None:
    assert _ask(idp, "alice@example.com").status_code == 303
    idp.settle_mail()
    first = code_in(idp.outbox.messages()[0])
    idp.clock.advance(31)
    resent = idp.browser.post("/signin/code/resend", data=_fields(_code_page(idp)))
    assert resent.status_code == 303
    assert resent.headers["location"] == "/signin/code?request=&then=account&sent=1"
    page = idp.browser.get(resent.headers["location"])
    assert '<p class="status" role="status">A new code is on its way.' in page.text
    assert "alice@example.com" in page.text
    idp.settle_mail()
    mails = idp.outbox.messages()
    assert len(mails) == 2 and mails[0]["to"] == "alice@example.com"
    second = code_in(mails[0])
    stale = idp.browser.post("/signin/code", data={**_fields(page), "code": first})
    assert stale.status_code == 400
    done = idp.browser.post("/signin/code", data={**_fields(page), "code": second})
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert "tessera-address=" in done.headers["set-cookie"] and "Max-Age=0" in done.headers["set-cookie"]


def test_send_a_new_code_too_soon_is_refused_on_the_code_page_with_when(idp: ProviderHarness) -> None:
    assert _ask(idp, "alice@example.com").status_code == 303
    idp.clock.advance(10)
    refused = idp.browser.post("/signin/code/resend", data=_fields(_code_page(idp)))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "21"
    assert '<p class="alert" id="page-error" role="alert">A code was sent moments ago' in refused.text
    assert "You can ask for another in 21 seconds." in refused.text
    assert 'id="code"' in refused.text  # still the code page: the code already sent can be entered
    idp.settle_mail()
    assert len(idp.outbox.messages()) == 1


def test_send_a_new_code_needs_the_form_token(idp: ProviderHarness) -> None:
    assert _ask(idp, "alice@example.com").status_code == 303
    idp.clock.advance(31)
    fields = _fields(_code_page(idp))
    forged = idp.browser.post("/signin/code/resend", data={**fields, "csrf": "x" * 43})
    assert forged.status_code == 403
    cross_site = idp.browser.post(
        "/signin/code/resend", data=fields, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    idp.settle_mail()
    assert len(idp.outbox.messages()) == 1
    assert idp.browser.post("/signin/code/resend", data=fields).status_code == 303


def test_send_a_new_code_without_a_sign_in_goes_back_to_the_email_form(idp: ProviderHarness) -> None:
    page = _code_page(idp)
    back = idp.browser.post("/signin/code/resend", data=_fields(page))
    assert back.status_code == 303
    assert back.headers["location"] == "/signin?request=&then=account"


def test_a_wrong_code_is_tied_to_the_code_field(idp: ProviderHarness) -> None:
    assert _ask(idp, "alice@example.com").status_code == 303
    wrong = idp.browser.post("/signin/code", data={**_fields(_code_page(idp)), "code": "000000x"})
    assert wrong.status_code == 400
    assert 'aria-invalid="true" aria-describedby="code-error"' in wrong.text
    assert '<p class="error" id="code-error" role="alert">That code is not valid.' in wrong.text
    fresh = _code_page(idp)
    assert "aria-invalid" not in fresh.text and 'role="alert"' not in fresh.text


def test_an_invalid_email_is_tied_to_the_field_and_kept_in_it(idp: ProviderHarness) -> None:
    refused = _ask(idp, "not-an-address")
    assert refused.status_code == 400
    assert 'value="not-an-address" aria-invalid="true" aria-describedby="email-error"' in refused.text
    assert '<p class="error" id="email-error" role="alert">Enter a valid email address.</p>' in refused.text


def test_a_spent_hourly_budget_says_when_to_come_back(idp: ProviderHarness) -> None:
    """Ten wrong codes from one address spend its clock hour on the account: the answers say how long."""
    statuses = []
    for guesses in (5, 4, 2):
        assert _ask(idp, "alice@example.com").status_code == 303
        fields = _fields(_code_page(idp))
        for n in range(guesses):
            last = idp.browser.post("/signin/code", data={**fields, "code": f"{n:06d}"})
            statuses.append(last.status_code)
        idp.clock.advance(31)
    assert statuses == [400] * 10 + [429]
    wait = int(last.headers["retry-after"])
    assert wait == 3600 - 62 + 1  # the hour began with the clock; three requests 31 s apart
    assert "Too many wrong codes were tried from your network. Try again in 59 minutes." in last.text
    assert "Try again later" not in last.text
    again = _ask(idp, "alice@example.com")
    assert again.status_code == 429 and again.headers["retry-after"] == str(3600 - 93 + 1)
    assert "Too many codes were requested. Try again in 59 minutes." in again.text
    assert "Wait a moment" not in again.text
