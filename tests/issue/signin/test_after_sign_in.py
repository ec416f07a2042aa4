"""PWL-11: where a sign-in that no application asked for goes afterwards. Only the provider's own
pages named in a fixed list are destinations; anything else a ``then`` says falls back to "done"."""

from __future__ import annotations

import re

import pytest

from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import code_in

_FIELDS = re.compile(r'name="(csrf|request|then)" value="([^"]*)"')


def _signed_in_to(idp: ProviderHarness, then: str) -> str:
    idp.clock.advance(31)
    idp.browser.cookies.clear()
    form = idp.browser.get("/signin", params={"request": "", "then": then})
    fields = dict(_FIELDS.findall(form.text))
    mark = len(idp.outbox.messages())
    assert idp.browser.post("/signin", data={**fields, "email": "alice@example.com"}).status_code == 303
    idp.settle_mail()
    assert len(idp.outbox.messages()) == mark + 1
    code = code_in(idp.outbox.messages()[0])
    page = idp.browser.get("/signin/code", params={"request": "", "then": fields.get("then", "")})
    done = idp.browser.post("/signin/code", data={**dict(_FIELDS.findall(page.text)), "code": code})
    assert done.status_code == 303
    return str(done.headers["location"])


def test_pwl11_the_account_page_is_a_destination(idp: ProviderHarness) -> None:
    assert _signed_in_to(idp, "account") == "/account"


@pytest.mark.parametrize(
    "then",
    [
        "//evil.com",
        "https:evil.com",
        "/\\evil.com",
        "https://app.example.evil.com",
        "javascript:alert(1)",
        "/account",
    ],
)
def test_pwl11_any_other_destination_is_ignored(idp: ProviderHarness, then: str) -> None:
    assert _signed_in_to(idp, then) == "/signin/done"


def test_pwl11_a_then_posted_past_the_form_is_ignored_too(idp: ProviderHarness) -> None:
    form = idp.browser.get("/signin?request=&then=account")
    fields = {**dict(_FIELDS.findall(form.text)), "then": "//evil.com"}
    sent = idp.browser.post("/signin", data={**fields, "email": "alice@example.com"})
    assert sent.status_code == 303
    assert "evil" not in sent.headers["location"]
    idp.settle_mail()
    done = idp.browser.post("/signin/code", data={**fields, "code": code_in(idp.outbox.messages()[0])})
    assert done.status_code == 303 and done.headers["location"] == "/signin/done"
