"""The SMS code page over HTTP: the number the code went to, "use another number", "send a new
code" (throttled and capped as the first text), and send limits that say when to come back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera.store import User
from tessera.testing.idp import ProviderHarness

CAROL = "+447400123456"
_FIELDS = re.compile(r'name="(csrf|request)" value="([^"]*)"')
_CODE = re.compile(r"sign-in code is ([0-9]{6}|[0-9]{12})\b")


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """A dev provider (texts go to the dev outbox) with Carol, who has a phone number."""
    harness = ProviderHarness(tmp_path, sms_sends_per_hour_per_number=2)
    harness.store.put_user(User("usr_carol", "carol@example.com", True, "Carol", (), phone=CAROL))
    yield harness
    harness.close()


def _fields(page: Any) -> dict[str, str]:
    return dict(_FIELDS.findall(page.text))


def _texts(idp: ProviderHarness) -> list[str]:
    idp.settle_mail()
    return [str(m["text"]) for m in idp.outbox.messages() if m["to"] == CAROL]


def _ask(idp: ProviderHarness, phone: str = "+44 7400 123456") -> Any:
    form = idp.browser.get("/signin/phone?request=")
    return idp.browser.post("/signin/phone", data={**_fields(form), "phone": phone})


def test_the_code_page_shows_the_number_and_links_to_use_another(idp: ProviderHarness) -> None:
    assert _ask(idp).status_code == 303
    page = idp.browser.get("/signin/phone/code?request=")
    assert f'<strong id="address">{CAROL}</strong>' in page.text
    assert '<a id="another-address" href="/signin/phone?request=">Use another number</a>' in page.text
    assert '<form method="post" action="/signin/phone/code/resend">' in page.text
    other = idp.new_browser().get("/signin/phone/code?request=")
    assert CAROL not in other.text and "/resend" not in other.text


def test_send_a_new_code_texts_one_that_signs_in(idp: ProviderHarness) -> None:
    assert _ask(idp).status_code == 303
    idp.clock.advance(31)
    page = idp.browser.get("/signin/phone/code?request=")
    resent = idp.browser.post("/signin/phone/code/resend", data=_fields(page))
    assert resent.status_code == 303
    assert resent.headers["location"] == "/signin/phone/code?request=&sent=1"
    shown = idp.browser.get(resent.headers["location"])
    assert 'role="status">A new code is on its way.' in shown.text
    texts = _texts(idp)
    assert len(texts) == 2
    match = _CODE.search(texts[0])  # newest first
    assert match is not None
    done = idp.browser.post("/signin/phone/code", data={**_fields(shown), "code": match.group(1)})
    assert done.status_code == 303 and done.headers["location"] == "/signin/done"
    assert any("tessera-address=" in c and "Max-Age=0" in c for c in done.headers.get_list("set-cookie"))


def test_send_a_new_code_past_the_numbers_cap_says_when_to_come_back(idp: ProviderHarness) -> None:
    assert _ask(idp).status_code == 303
    for _ in range(2):
        idp.clock.advance(31)
        page = idp.browser.get("/signin/phone/code?request=")
        last = idp.browser.post("/signin/phone/code/resend", data=_fields(page))
    assert last.status_code == 429  # the cap is two texts an hour to this number
    wait = int(last.headers["retry-after"])
    assert 'id="page-error" role="alert">Too many texts were sent to this number or country.' in last.text
    assert f"Try again in {-(-wait // 60)} minutes, or use your email." in last.text
    assert 'id="code"' in last.text
    assert len(_texts(idp)) == 2


def test_send_a_new_code_too_soon_says_when(idp: ProviderHarness) -> None:
    assert _ask(idp).status_code == 303
    idp.clock.advance(5)
    page = idp.browser.get("/signin/phone/code?request=")
    refused = idp.browser.post("/signin/phone/code/resend", data=_fields(page))
    assert refused.status_code == 429
    assert "You can ask for another in 26 seconds." in refused.text
    assert len(_texts(idp)) == 1


def test_an_invalid_number_is_tied_to_the_field_and_kept_in_it(idp: ProviderHarness) -> None:
    refused = _ask(idp, "12<3")
    assert refused.status_code == 400
    assert 'value="12&lt;3" aria-invalid="true" aria-describedby="phone-error"' in refused.text
    assert '<p id="phone-error" class="error" role="alert">Enter your mobile number' in refused.text
    assert '<a href="/signin?request=">Use your email instead</a>' in refused.text
