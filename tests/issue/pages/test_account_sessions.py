"""The account page's sessions, applications and deletion, through HTTP (WEB-08, PWL-34).

Each change is shown taking effect where it matters: a session ended from another browser is
signed out there, an application whose access was removed gets ``invalid_grant`` for its
refresh token, and a deleted account's tokens are refused at ``/token`` and ``/userinfo``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tessera.testing.idp import FULL_SCOPE, ISSUER, PARTNER_REDIRECT, ProviderHarness, query_of
from tessera.testing.signin import run_sign_in, submit_consent
from tessera.verify import Verifier

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FRESH_SECONDS = 600  # the passkey policy's fresh_sign_in_seconds, which deletion shares


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    harness = ProviderHarness(tmp_path / "idp")
    yield harness
    harness.close()


def _browser(idp: ProviderHarness, user_agent: str) -> TestClient:
    browser = idp.new_browser()
    browser.headers["user-agent"] = user_agent
    return browser


def _account(idp: ProviderHarness, browser: TestClient, email: str = "alice@example.com") -> str:
    """Sign ``browser`` in as ``email`` by email code, landing on the account page; its HTML."""
    idp.clock.advance(31)
    page = run_sign_in(browser, f"{ISSUER}/signin?then=account", email, issuer=ISSUER)
    assert page.status_code == 200 and str(page.url).endswith("/account"), page.text
    text: str = page.text
    return text


def _csrf(page: str) -> str:
    found = re.search(r'(?:name="csrf" value|data-csrf)="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def _sessions(page: str) -> list[tuple[str, str]]:
    """(browser and marker, handle or "") of each listed session, in the page's order."""
    section = page.split('<section id="sessions"')[1].split("</section>", maxsplit=1)[0]
    listed = []
    for item in section.split("<li>")[1:]:
        name = re.sub(r"<[^>]+>", "", item.split('<span class="note">')[0]).strip()
        handle = re.search(r'name="session" value="([^"]*)"', item)
        listed.append((html.unescape(name), html.unescape(handle.group(1)) if handle else ""))
    return listed


def _applications(page: str) -> list[str]:
    section = page.split('<section id="applications"')[1].split("</section>", maxsplit=1)[0]
    return [html.unescape(v) for v in re.findall(r'name="client" value="([^"]*)"', section)]


def _signed_in(browser: TestClient) -> bool:
    response = browser.get("/account")
    return response.status_code == 200


def _audit(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    found = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tessera.audit"]
    return [e for e in found if e["event"] == event]


def test_the_page_lists_each_session_with_its_browser_method_and_this_browser(idp: ProviderHarness) -> None:
    here, there = _browser(idp, FIREFOX), _browser(idp, CHROME)
    _account(idp, there)
    page = _account(idp, here)
    sessions = _sessions(page)
    assert [name for name, _ in sessions] == ["Firefox on Linux This browser", "Chrome on macOS"]
    assert sessions[0][1] == "" and sessions[1][1]  # only other sessions get a sign-out button
    assert page.count("with a code by email") == 2
    assert "Sign out everywhere else" in page
    assert _sessions(_account(idp, idp.new_browser(), "bob@example.com")) == [
        ("Unknown browser This browser", "")
    ]


def test_signing_out_another_session_ends_it_there(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    here, there = _browser(idp, FIREFOX), _browser(idp, CHROME)
    _account(idp, there)
    page = _account(idp, here)
    handle = _sessions(page)[1][1]

    forged = here.post("/account/sessions/end", data={"csrf": _csrf(page), "session": handle + "x"})
    assert forged.status_code == 303 and _signed_in(there)
    no_token = here.post("/account/sessions/end", data={"session": handle})
    assert no_token.status_code == 403 and _signed_in(there)
    bob = idp.new_browser()
    bobs_page = _account(idp, bob, "bob@example.com")
    not_his = bob.post("/account/sessions/end", data={"csrf": _csrf(bobs_page), "session": handle})
    assert not_his.status_code == 303 and _signed_in(there)

    ended = here.post("/account/sessions/end", data={"csrf": _csrf(page), "session": handle})
    assert ended.status_code == 303 and ended.headers["location"] == "/account#sessions"
    assert not _signed_in(there)
    assert there.get("/account").headers["location"] == "/signin?then=account"
    assert _signed_in(here)
    assert [name for name, _ in _sessions(here.get("/account").text)] == ["Firefox on Linux This browser"]
    assert _audit(caplog, "session_ended") == [
        {"event": "session_ended", "how": "account_page", "time": int(idp.clock()), "user_id": "usr_alice"}
    ]


def test_signing_out_everywhere_else_keeps_only_this_browser(idp: ProviderHarness) -> None:
    others = [_browser(idp, CHROME) for _ in range(2)]
    for browser in others:
        _account(idp, browser)
    here = _browser(idp, FIREFOX)
    page = _account(idp, here)
    assert len(_sessions(page)) == 3
    bob = idp.new_browser()
    _account(idp, bob, "bob@example.com")
    response = here.post("/account/sessions/end-others", data={"csrf": _csrf(page)})
    assert response.status_code == 303
    assert [_signed_in(b) for b in others] == [False, False]
    assert _signed_in(here) and _signed_in(bob)
    assert len(_sessions(here.get("/account").text)) == 1


def test_a_session_ended_from_the_page_takes_its_grants_with_it(idp: ProviderHarness) -> None:
    """Ending a session revokes what was authorized in it: its refresh token is refused."""
    phone = _browser(idp, CHROME)
    tokens = _spa_tokens(idp, phone)
    here = _browser(idp, FIREFOX)
    page = _account(idp, here)
    assert idp.refresh(tokens["refresh_token"]).status_code == 200
    handle = next(h for name, h in _sessions(page) if name == "Chrome on macOS")
    here.post("/account/sessions/end", data={"csrf": _csrf(page), "session": handle})
    answer = idp.refresh(tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def _spa_tokens(
    idp: ProviderHarness, browser: TestClient, email: str = "alice@example.com"
) -> dict[str, Any]:
    params = idp.authorize_params("spa")
    callback = idp.sign_in(params, email, browser)
    exchanged = idp.exchange(query_of(callback)["code"], idp.last_verifier, "spa", params["redirect_uri"])
    assert exchanged.status_code == 200, exchanged.text
    body: dict[str, Any] = exchanged.json()
    return body


def _partner_tokens(
    idp: ProviderHarness, browser: TestClient, email: str = "alice@example.com"
) -> dict[str, Any]:
    params = idp.authorize_params("partner", scope=FULL_SCOPE)
    consent = idp.consent_page(params, email, browser)
    answer = submit_consent(browser, consent, "approve", issuer=ISSUER)
    location = answer.headers["location"]
    assert location.startswith(PARTNER_REDIRECT)
    exchanged = idp.exchange(query_of(location)["code"], idp.last_verifier, "partner", PARTNER_REDIRECT)
    assert exchanged.status_code == 200, exchanged.text
    body: dict[str, Any] = exchanged.json()
    return body


def test_removing_an_applications_access_kills_its_refresh_tokens(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    here = _browser(idp, FIREFOX)
    alices = _partner_tokens(idp, here)
    spa = _spa_tokens(idp, here)
    bob = idp.new_browser()
    bobs = _partner_tokens(idp, bob, "bob@example.com")
    page = here.get("/account").text
    assert _applications(page) == ["partner", "spa"]
    assert "Partner Reports" in page and "keeps access while you are away" in page

    removed = here.post("/account/applications/revoke", data={"csrf": _csrf(page), "client": "partner"})
    assert removed.status_code == 303 and removed.headers["location"] == "/account#applications"

    refused = idp.refresh(alices["refresh_token"], "partner")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert idp.introspect(alices["access_token"]) == {"active": False}
    # An API verifying the JWT on its own accepts it until it expires (docs/idp.md says so).
    verifier = Verifier(
        issuer=ISSUER, audience=ISSUER, token_type="at+jwt", keys=idp.provider.keys, clock=idp.clock
    )
    assert verifier.verify(alices["access_token"]).subject == "usr_alice"
    assert idp.refresh(bobs["refresh_token"], "partner").status_code == 200
    assert idp.refresh(spa["refresh_token"]).status_code == 200
    assert _applications(here.get("/account").text) == ["spa"]
    assert _audit(caplog, "application_revoked")[0]["client_id"] == "partner"

    unknown = here.post("/account/applications/revoke", data={"csrf": _csrf(page), "client": "web"})
    assert unknown.status_code == 303 and len(_audit(caplog, "application_revoked")) == 1


def test_deleting_needs_a_recent_sign_in(idp: ProviderHarness) -> None:
    here = _browser(idp, FIREFOX)
    page = _account(idp, here)
    assert 'href="/account/delete"' in page
    idp.clock.advance(FRESH_SECONDS + 1)
    stale = here.get("/account/delete")
    assert stale.status_code == 403 and "sign in again" in stale.text.lower()
    refused = here.post("/account/delete", data={"csrf": _csrf(page), "confirm_email": "alice@example.com"})
    assert refused.status_code == 403
    assert idp.store.get_user("usr_alice") is not None
    assert idp.new_browser().get("/account/delete").headers["location"] == "/signin?then=account"


def test_deleting_the_account_erases_it_signs_out_everywhere_and_refuses_its_tokens(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    elsewhere = _browser(idp, CHROME)
    _account(idp, elsewhere)
    here = _browser(idp, FIREFOX)
    tokens = _spa_tokens(idp, here)
    partner = _partner_tokens(idp, here)
    _account(idp, here)
    form = here.get("/account/delete")
    assert form.status_code == 200 and "alice@example.com" in form.text

    wrong = here.post("/account/delete", data={"csrf": _csrf(form.text), "confirm_email": "bob@example.com"})
    assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.text and 'role="alert"' in wrong.text
    assert idp.store.get_user("usr_alice") is not None
    forged = here.post("/account/delete", data={"confirm_email": "alice@example.com"})
    assert forged.status_code == 403 and idp.store.get_user("usr_alice") is not None

    done = here.post(
        "/account/delete", data={"csrf": _csrf(form.text), "confirm_email": " Alice@Example.com "}
    )
    assert done.status_code == 200 and "Your account was deleted" in done.text
    assert any(c.startswith("tessera-session=;") for c in done.headers.get_list("set-cookie"))
    assert idp.store.get_user("usr_alice") is None
    assert idp.store.find_user_by_email("alice@example.com") is None
    assert not _signed_in(here) and not _signed_in(elsewhere)
    for refresh, client in ((tokens["refresh_token"], "spa"), (partner["refresh_token"], "partner")):
        answer = idp.refresh(refresh, client)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    userinfo = idp.new_browser().get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 401 and 'error="invalid_token"' in userinfo.headers["www-authenticate"]
    assert idp.introspect(tokens["access_token"]) == {"active": False}
    assert _audit(caplog, "account_deleted") == [
        {"event": "account_deleted", "time": int(idp.clock()), "user_id": "usr_alice"}
    ]
    assert idp.store.get_user("usr_bob") is not None


def test_the_same_email_is_refused_like_an_unknown_address_after_deletion(idp: ProviderHarness) -> None:
    here = _browser(idp, FIREFOX)
    _account(idp, here)
    form = here.get("/account/delete")
    here.post("/account/delete", data={"csrf": _csrf(form.text), "confirm_email": "alice@example.com"})
    idp.clock.advance(31)
    start = here.get("/signin")
    fields = dict(re.findall(r'<input type="hidden" name="(csrf|request)" value="([^"]*)">', start.text))
    before = len(idp.outbox.messages())
    asked = here.post("/signin", data={**fields, "email": "alice@example.com"})
    assert asked.status_code == 303  # the same answer as for any address ...
    idp.settle_mail()
    assert len(idp.outbox.messages()) == before  # ... but no code is sent: there is no account


def test_with_signup_the_same_email_starts_a_fresh_account(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path / "signup", signup=True)
    try:
        here = _browser(idp, FIREFOX)
        old_tokens = _spa_tokens(idp, here)
        _account(idp, here)
        form = here.get("/account/delete")
        here.post("/account/delete", data={"csrf": _csrf(form.text), "confirm_email": "alice@example.com"})
        again = _browser(idp, FIREFOX)
        page = _account(idp, again)
        fresh = idp.store.find_user_by_email("alice@example.com")
        assert fresh is not None and fresh.user_id != "usr_alice" and fresh.roles == ()
        assert _applications(page) == [] and len(_sessions(page)) == 1
        answer = idp.refresh(old_tokens["refresh_token"])
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    finally:
        idp.close()
