"""Magic links over HTTP: PWL-01..06, 08, 12 and 13 each refused when forged and accepted when genuine."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tessera.store import secret_hash
from tessera.testing.idp import ISSUER, SPA_REDIRECT, ProviderHarness, query_of
from tessera.testing.signin import newest_mail_id

_LINK = re.compile(r"(http\S+/signin/link\?\S+)")
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def _ask(idp: ProviderHarness, browser: TestClient, email: str = "alice@example.com") -> tuple[str, str]:
    """Start a sign-in for ``email`` in ``browser`` through /authorize; (the mailed link, the request id)."""
    idp.clock.advance(31)
    browser.cookies.delete("tessera-session")
    page = browser.get(f"/authorize?{_query(idp.authorize_params())}")
    assert page.status_code in (302, 303)
    signin = browser.get(page.headers["location"])
    fields = dict(_HIDDEN.findall(signin.text))
    before = newest_mail_id(idp.outbox.messages())
    posted = browser.post("/signin", data={**fields, "email": email})
    assert posted.status_code == 303, posted.text
    mail = idp.wait_for_mail(email, after=before)
    match = _LINK.search(str(mail["text"]))
    assert match is not None, mail["text"]
    return match.group(1), fields["request"]


def _query(params: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _land(browser: TestClient, link: str) -> Any:
    """GET the link as a browser does: the redirect that scrubs the token, then the page."""
    first = browser.get(link)
    assert first.status_code == 303, first.text
    assert "token" not in first.headers["location"]
    return browser.get(first.headers["location"])


def _confirm(browser: TestClient, page: Any) -> Any:
    fields = dict(_HIDDEN.findall(page.text))
    return browser.post("/signin/link", data=fields)


def _put_cookie(browser: TestClient, name: str, value: str) -> None:
    """Replace cookie ``name`` in the browser's jar (one value, as a browser keeps it)."""
    browser.cookies.delete(name)
    browser.cookies.set(name, value, domain="127.0.0.1", path="/")


def _cookie(browser: TestClient, name: str) -> str:
    value = browser.cookies.get(name, domain="127.0.0.1")
    assert value is not None
    return value


def _refused(response: Any) -> None:
    """The link was refused as invalid (not for an unreadable form), and nobody was signed in."""
    assert response.status_code == 400
    assert "sign-in link is not valid" in response.text
    assert "tessera-session" not in response.headers.get("set-cookie", "")


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_the_link_opened_in_the_asking_browser_signs_in_and_ends_at_the_client(idp: ProviderHarness) -> None:
    link, request_id = _ask(idp, idp.browser)
    assert link.startswith(f"{ISSUER}/signin/link?")
    page = _land(idp.browser, link)
    assert page.status_code == 200
    assert 'action="/signin/link"' in page.text
    done = _confirm(idp.browser, page)
    assert done.status_code == 303
    assert done.headers["location"] == f"/authorize/continue?request={request_id}"
    cont = idp.browser.get(done.headers["location"])
    assert cont.headers["location"].startswith(SPA_REDIRECT)
    assert "code" in query_of(cont.headers["location"])


def test_a_get_consumes_nothing_so_a_mail_scanner_neither_burns_nor_uses_the_link(
    idp: ProviderHarness,
) -> None:
    link, _ = _ask(idp, idp.browser)
    scanner = idp.new_browser("198.51.100.7")
    for _ in range(3):
        seen = scanner.get(
            link, headers={"User-Agent": "Mozilla/5.0 (compatible; SafeLinks)"}, follow_redirects=True
        )
        assert seen.status_code == 200
        assert "where you asked" in seen.text
        assert "tessera-session" not in seen.headers.get("set-cookie", "")
    assert _land(idp.browser, link).status_code == 200
    assert _land(idp.browser, link).status_code == 200
    assert _confirm(idp.browser, _land(idp.browser, link)).status_code == 303


def test_the_link_in_another_browser_signs_nobody_in_there_and_still_works_where_asked(
    idp: ProviderHarness,
) -> None:
    link, _ = _ask(idp, idp.browser)
    other = idp.new_browser()
    landed = other.get(link, follow_redirects=True)
    assert landed.status_code == 200 and "where you asked" in landed.text
    assert "<form" not in landed.text
    # A browser with a sign-in of its own (the attacker's) cannot redeem the victim's link either.
    _ask(idp, other, "bob@example.com")
    _put_cookie(other, "tessera-link", _token(link))
    stolen = other.get("/signin/link")
    _refused(_confirm(other, stolen))
    page = _land(idp.browser, link)
    assert _confirm(idp.browser, page).status_code == 303


def test_a_forged_or_reused_link_is_refused(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    token = _token(link)
    seq, _, random_part = token.partition(".")
    forged = link.replace(token, f"{seq}.{random_part[::-1]}")
    _refused(_confirm(idp.browser, _land(idp.browser, forged)))
    assert idp.browser.get(link.replace(token, "not-a-token")).status_code == 400
    signin_cookie = _cookie(idp.browser, "tessera-signin")
    assert _confirm(idp.browser, _land(idp.browser, link)).status_code == 303
    idp.browser.cookies.delete("tessera-session")
    _put_cookie(idp.browser, "tessera-signin", signin_cookie)
    _refused(_confirm(idp.browser, _land(idp.browser, link)))


def test_a_link_expires_after_ten_minutes(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    page = _land(idp.browser, link)
    idp.clock.advance(601)
    _refused(_confirm(idp.browser, page))
    link, _ = _ask(idp, idp.browser)
    page = _land(idp.browser, link)
    idp.clock.advance(599)
    assert _confirm(idp.browser, page).status_code == 303


def test_a_newer_link_supersedes_an_older_one_in_another_browser(idp: ProviderHarness) -> None:
    first_browser = idp.new_browser("192.0.2.1")
    older, _ = _ask(idp, first_browser)
    newer, _ = _ask(idp, idp.new_browser("192.0.2.2"))
    assert _token(older) != _token(newer)
    _refused(_confirm(first_browser, _land(first_browser, older)))
    # Within one minute too: the count orders them.
    idp.clock.advance(31)
    third = idp.new_browser("192.0.2.3")
    link3, _ = _ask(idp, third)
    _ask(idp, idp.new_browser("192.0.2.4"))
    _refused(_confirm(third, _land(third, link3)))
    latest_browser = idp.new_browser("192.0.2.5")
    latest, _ = _ask(idp, latest_browser)
    assert _confirm(latest_browser, _land(latest_browser, latest)).status_code == 303


def test_the_code_of_a_mail_whose_link_was_superseded_still_works(idp: ProviderHarness) -> None:
    from tessera.testing.signin import code_in

    _ask(idp, idp.browser)
    code = code_in(idp.wait_for_mail())
    _ask(idp, idp.new_browser("192.0.2.9"))
    page = idp.browser.get("/signin/code")
    fields = dict(_HIDDEN.findall(page.text))
    assert idp.browser.post("/signin/code", data={**fields, "code": code}).status_code == 303


def test_using_the_code_consumes_the_link_and_using_the_link_the_code(idp: ProviderHarness) -> None:
    from tessera.testing.signin import code_in

    link, _ = _ask(idp, idp.browser)
    code = code_in(idp.wait_for_mail())
    page = idp.browser.get("/signin/code")
    fields = dict(_HIDDEN.findall(page.text))
    signin_cookie = _cookie(idp.browser, "tessera-signin")
    assert idp.browser.post("/signin/code", data={**fields, "code": code}).status_code == 303
    _put_cookie(idp.browser, "tessera-signin", signin_cookie)
    _refused(_confirm(idp.browser, _land(idp.browser, link)))
    link, _ = _ask(idp, idp.browser)
    code = code_in(idp.wait_for_mail())
    signin_cookie = _cookie(idp.browser, "tessera-signin")
    assert _confirm(idp.browser, _land(idp.browser, link)).status_code == 303
    _put_cookie(idp.browser, "tessera-signin", signin_cookie)
    assert idp.browser.post("/signin/code", data={**fields, "code": code}).status_code == 400


def test_the_token_is_stored_only_as_a_mac_and_has_256_random_bits(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    token = _token(link)
    random_part = token.partition(".")[2]
    assert len(random_part) == 43  # token_urlsafe(32): 256 bits
    idp.settle_mail()
    with sqlite3.connect(idp.store.path) as db:
        dump = "\n".join(db.iterdump())
    assert token not in dump and random_part not in dump
    assert secret_hash(token) not in dump


def test_a_poisoned_host_does_not_reach_the_link(idp: ProviderHarness) -> None:
    browser = TestClient(idp.app, base_url="http://evil.example", follow_redirects=False)
    link, _ = _ask(idp, browser)
    assert link.startswith(f"{ISSUER}/signin/link?")


def test_the_landing_page_has_no_token_in_its_url_and_sends_no_referrer(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    first = idp.browser.get(link)
    assert first.headers["referrer-policy"] == "no-referrer"
    assert first.headers["cache-control"] == "no-store"
    page = idp.browser.get(first.headers["location"])
    assert _token(link) not in str(page.url) and _token(link) not in page.text
    # The scrubbed page may send a Referer to its own origin (forms need their Origin), never elsewhere.
    assert page.headers["referrer-policy"] == "same-origin"


def test_a_planted_session_is_not_promoted_by_the_link(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    _put_cookie(idp.browser, "tessera-session", "planted-by-the-attacker")
    done = _confirm(idp.browser, _land(idp.browser, link))
    assert done.status_code == 303
    fresh = done.cookies.get("tessera-session")
    assert fresh and fresh != "planted-by-the-attacker"


def test_the_confirm_post_needs_the_form_token_and_the_same_site(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    page = _land(idp.browser, link)
    fields = dict(_HIDDEN.findall(page.text))
    assert idp.browser.post("/signin/link", data={**fields, "csrf": "x"}).status_code == 403
    cross = idp.browser.post("/signin/link", data=fields, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert idp.browser.post("/signin/link", data=fields).status_code == 303


def test_guesses_at_a_link_spend_the_challenge_and_the_address_budget(idp: ProviderHarness) -> None:
    link, _ = _ask(idp, idp.browser)
    token = _token(link)
    seq = token.partition(".")[0]
    for _ in range(5):
        _put_cookie(idp.browser, "tessera-link", f"{seq}.{'A' * 43}")
        _refused(_confirm(idp.browser, idp.browser.get("/signin/link")))
    _put_cookie(idp.browser, "tessera-link", token)
    _refused(_confirm(idp.browser, idp.browser.get("/signin/link")))
