"""A code asked for again within the resend interval: the page says no code was sent and why."""

from __future__ import annotations

import re

from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import code_in


def _email_form(idp: ProviderHarness) -> dict[str, str]:
    page = idp.browser.get("/signin?request=")
    return dict(re.findall(r'name="(csrf|request)" value="([^"]*)"', page.text))


def test_a_second_request_within_the_interval_says_so_and_the_first_code_still_works(
    idp: ProviderHarness,
) -> None:
    fields = _email_form(idp)
    first = idp.browser.post("/signin", data={**fields, "email": "alice@example.com"})
    assert first.status_code == 303
    idp.clock.advance(10)
    again = idp.browser.post("/signin", data={**fields, "email": "alice@example.com"})
    assert again.status_code == 429
    assert again.headers["retry-after"] == "21"
    assert "A code was sent to this address moments ago, so no new code was sent." in again.text
    assert "ask for a new one in 21 seconds" in again.text
    assert 'href="/signin/code?request="' in again.text
    idp.settle_mail()
    assert len(idp.outbox.messages()) == 1  # the throttled request sent nothing
    code = code_in(idp.outbox.messages()[0])
    code_form = dict(
        re.findall(r'name="(csrf|request)" value="([^"]*)"', idp.browser.get("/signin/code").text)
    )
    done = idp.browser.post("/signin/code", data={**code_form, "code": code})
    assert done.status_code == 303
    assert done.headers["location"] == "/signin/done"


def test_an_unknown_address_gets_the_same_answer(idp: ProviderHarness) -> None:
    fields = _email_form(idp)
    answers = []
    for email in ("alice@example.com", "nobody@example.com"):
        assert idp.browser.post("/signin", data={**fields, "email": email}).status_code == 303
        again = idp.browser.post("/signin", data={**fields, "email": email})
        answers.append((again.status_code, again.text.replace(email, "")))
    assert answers[0][0] == answers[1][0] == 429
    assert answers[0][1].split("<form")[0] == answers[1][1].split("<form")[0]
