"""Passkeys over HTTP: sign-in (button and autofill share one endpoint), the account page, the script.

A software authenticator (tests/passwordless/soft_authenticator.py) answers the options the
provider sends, so every ceremony here is genuine unless a test forges one field of it.
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

from tessera.testing.idp import ProviderHarness, query_of
from tessera.testing.signin import run_sign_in

from ...passwordless.soft_authenticator import UP, SoftAuthenticator

ISSUER = "http://localhost:8000"
SAME_ORIGIN = {"Origin": ISSUER}


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    harness = ProviderHarness(tmp_path, issuer=ISSUER)
    yield harness
    harness.store.close()


def _data(page: str, section: str) -> dict[str, str]:
    tag = re.search(rf'<section id="{section}"([^>]*)>', page)
    assert tag is not None, f"no {section} section"
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1))}


def _post(browser: TestClient, url: str, body: dict[str, Any], **headers: str) -> Any:
    return browser.post(url, json=body, headers={**SAME_ORIGIN, **headers})


def _signed_in_account(idp: ProviderHarness, browser: TestClient, email: str = "alice@example.com") -> str:
    idp.clock.advance(31)
    page = run_sign_in(browser, f"{ISSUER}/signin?then=account", email, issuer=ISSUER)
    assert page.status_code == 200, page.text
    assert str(page.url).endswith("/account")
    text: str = page.text
    return text


def _add(idp: ProviderHarness, browser: TestClient, device: SoftAuthenticator, name: str) -> Any:
    page = browser.get("/account").text
    data = _data(page, "passkey-add")
    options = _post(browser, data["options"], {"csrf": data["csrf"]})
    assert options.status_code == 200, options.text
    credential = device.create(options.json())
    return _post(browser, data["verify"], {"csrf": data["csrf"], "name": name, "credential": credential})


def _passkey_sign_in(
    idp: ProviderHarness, browser: TestClient, device: SoftAuthenticator, path: str = "/signin", **forged: Any
) -> Any:
    data = _data(browser.get(path).text, "passkey-signin")
    options = _post(browser, data["options"], {"csrf": data["csrf"]})
    assert options.status_code == 200, options.text
    body = {"csrf": data["csrf"], "request": data["request"], "then": data["then"]}
    return _post(browser, data["verify"], {**body, "credential": device.get(options.json(), **forged)})


def test_add_a_passkey_then_sign_in_with_it_in_another_browser(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    device = SoftAuthenticator(ISSUER)
    account = _signed_in_account(idp, idp.browser)
    assert "You have no passkeys yet" in account
    added = _add(idp, idp.browser, device, "My <laptop>")
    assert added.status_code == 200, added.text
    assert added.json() == {"redirect": "/account"}
    listed = idp.browser.get("/account").text
    assert "My &lt;laptop&gt;" in listed
    assert "this device only" in listed
    other = idp.new_browser()
    signed = _passkey_sign_in(idp, other, device)
    assert signed.status_code == 200, signed.text
    assert signed.json() == {"redirect": "/signin/done"}
    assert signed.headers["cache-control"] == "no-store"
    assert "alice@example.com" in other.get("/account").text
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tessera.audit"]
    assert {"event": "passkey_registered", "user_id": "usr_alice"}.items() <= events[-2].items()
    assert events[-1]["event"] == "sign_in"
    assert events[-1]["reason"] == "passkey"


def test_passkey_sign_in_continues_the_authorization_request(idp: ProviderHarness) -> None:
    device = SoftAuthenticator(ISSUER)
    _signed_in_account(idp, idp.browser)
    assert _add(idp, idp.browser, device, "Phone").status_code == 200
    browser = idp.new_browser()
    start = idp.authorize(idp.authorize_params(), browser)
    signed = _passkey_sign_in(idp, browser, device, start.headers["location"])
    assert signed.status_code == 200, signed.text
    resumed = browser.get(signed.json()["redirect"])
    assert resumed.status_code in (302, 303)
    assert query_of(resumed.headers["location"])["code"]


def test_pwl28_challenge_bound_to_the_browser_that_asked(idp: ProviderHarness) -> None:
    device = SoftAuthenticator(ISSUER)
    _signed_in_account(idp, idp.browser)
    _add(idp, idp.browser, device, "Key")
    victim, attacker = idp.new_browser(), idp.new_browser()
    victim_data = _data(victim.get("/signin").text, "passkey-signin")
    victim_options = _post(victim, victim_data["options"], {"csrf": victim_data["csrf"]}).json()
    attacker_data = _data(attacker.get("/signin").text, "passkey-signin")
    stolen = _post(
        attacker,
        attacker_data["verify"],
        {"csrf": attacker_data["csrf"], "credential": device.get(victim_options)},
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "passkey_rejected"
    assert "tessera-session" not in attacker.cookies
    assert _passkey_sign_in(idp, victim, device).status_code == 200


@pytest.mark.parametrize(
    ("forged", "why"),
    [
        ({"origin": "http://127.0.0.1:8000"}, "wrong origin"),
        ({"rp_id": "127.0.0.1"}, "wrong RP ID"),
        ({"flags": UP}, "no user verification"),
        ({"kind": "webauthn.create"}, "wrong ceremony"),
        ({"client_data_extra": {"crossOrigin": True}}, "cross-origin"),
    ],
)
def test_forged_assertions_refused_over_http(idp: ProviderHarness, forged: dict[str, Any], why: str) -> None:
    device = SoftAuthenticator(ISSUER)
    _signed_in_account(idp, idp.browser)
    _add(idp, idp.browser, device, "Key")
    browser = idp.new_browser()
    refused = _passkey_sign_in(idp, browser, device, **forged)
    assert refused.status_code == 400, why
    assert "tessera-session" not in browser.cookies
    assert _passkey_sign_in(idp, browser, device).status_code == 200


def test_pwl28_expired_challenge_refused_over_http(idp: ProviderHarness) -> None:
    device = SoftAuthenticator(ISSUER)
    _signed_in_account(idp, idp.browser)
    _add(idp, idp.browser, device, "Key")
    browser = idp.new_browser()
    data = _data(browser.get("/signin").text, "passkey-signin")
    options = _post(browser, data["options"], {"csrf": data["csrf"]}).json()
    idp.clock.advance(301)
    late = _post(browser, data["verify"], {"csrf": data["csrf"], "credential": device.get(options)})
    assert late.status_code == 400
    assert _passkey_sign_in(idp, browser, device).status_code == 200


def test_pwl29_sign_count_regression_refused_and_audited(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    device = SoftAuthenticator(ISSUER)
    _signed_in_account(idp, idp.browser)
    _add(idp, idp.browser, device, "Key")
    assert _passkey_sign_in(idp, idp.new_browser(), device, sign_count=7).status_code == 200
    clone = idp.new_browser()
    assert _passkey_sign_in(idp, clone, device, sign_count=7).status_code == 400
    assert "tessera-session" not in clone.cookies
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tessera.audit"]
    assert {"event": "passkey_sign_count_regression", "user_id": "usr_alice"}.items() <= events[-2].items()
    assert _passkey_sign_in(idp, clone, device, sign_count=8).status_code == 200


def test_web08_json_endpoints_refuse_cross_site_and_tokenless_requests(idp: ProviderHarness) -> None:
    browser = idp.new_browser()
    data = _data(browser.get("/signin").text, "passkey-signin")
    url = data["options"]
    good = {"csrf": data["csrf"]}
    assert _post(browser, url, good).status_code == 200
    assert _post(browser, url, {}).status_code == 403
    assert _post(browser, url, {"csrf": "x" + data["csrf"]}).status_code == 403
    assert _post(browser, url, {"csrf": "é"}).status_code == 403
    assert _post(browser, url, good, Origin="https://evil.example").status_code == 403
    assert _post(browser, url, good, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert browser.post(url, json=good).status_code == 403  # no Origin at all
    plain = browser.post(url, content=json.dumps(good), headers={**SAME_ORIGIN, "Content-Type": "text/plain"})
    assert plain.status_code == 400
    twice = browser.post(
        url,
        content=b'{"csrf":"a","csrf":"' + data["csrf"].encode() + b'"}',
        headers={**SAME_ORIGIN, "Content-Type": "application/json"},
    )
    assert twice.status_code == 400
    huge = browser.post(
        url,
        content=b'{"csrf":"' + b"a" * 1_000_000 + b'"}',
        headers={**SAME_ORIGIN, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    for broken in (b"[]", b"{", b"\xff"):
        answer = browser.post(
            data["verify"], content=broken, headers={**SAME_ORIGIN, "Content-Type": "application/json"}
        )
        assert answer.status_code == 400
    for credential in (None, "x", {"response": {"clientDataJSON": "!!"}}, {"rawId": 5}):
        answer = _post(browser, data["verify"], {**good, "credential": credential})
        assert answer.status_code == 400
        assert answer.json()["error"] == "passkey_rejected"


def test_account_page_needs_a_session_and_adding_needs_a_recent_sign_in(idp: ProviderHarness) -> None:
    stranger = idp.new_browser()
    away = stranger.get("/account")
    assert away.status_code == 303
    assert away.headers["location"] == "/signin?then=account"
    page = _signed_in_account(idp, idp.browser)
    data = _data(page, "passkey-add")
    idp.clock.advance(601)
    assert "sign in again" in idp.browser.get("/account").text
    stale = _post(idp.browser, data["options"], {"csrf": data["csrf"]})
    assert stale.status_code == 403
    assert stale.json() == {
        "error": "login_required",
        "error_description": "Sign in again to add a passkey.",
        "redirect": "/signin?then=account",
    }
    no_session = _post(stranger, data["options"], {"csrf": data["csrf"]})
    assert no_session.status_code == 403
    _signed_in_account(idp, idp.browser)
    assert _add(idp, idp.browser, SoftAuthenticator(ISSUER), "Fresh").status_code == 200


def test_pwl34_a_credential_registered_to_another_user_is_refused(idp: ProviderHarness) -> None:
    device = SoftAuthenticator(ISSUER)
    _signed_in_account(idp, idp.browser)
    assert _add(idp, idp.browser, device, "Alice's").status_code == 200
    bob = idp.new_browser()
    _signed_in_account(idp, bob, "bob@example.com")
    again = _add(idp, bob, device, "Bob's copy")
    assert again.status_code == 400
    assert again.json()["error"] == "passkey_rejected"
    assert "Bob&#39;s copy" not in bob.get("/account").text


def _forms(page: str) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for action, body in re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S):
        fields = dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', body))
        found.setdefault(action, []).append({k: html.unescape(v) for k, v in fields.items()})
    return found


def test_rename_and_remove_and_the_last_one_needs_a_recent_sign_in(idp: ProviderHarness) -> None:
    _signed_in_account(idp, idp.browser)
    _add(idp, idp.browser, SoftAuthenticator(ISSUER), "First")
    idp.clock.advance(1)
    _add(idp, idp.browser, SoftAuthenticator(ISSUER), "Second")
    forms = _forms(idp.browser.get("/account").text)
    first_rename, second_rename = forms["/account/passkeys/rename"]
    renamed = idp.browser.post("/account/passkeys/rename", data={**first_rename, "name": "Work key"})
    assert renamed.status_code == 303
    bob = idp.new_browser()
    _signed_in_account(idp, bob, "bob@example.com")
    bob_page = bob.get("/account").text
    bob_token = _data(bob_page, "passkey-add")["csrf"]
    for action in ("/account/passkeys/rename", "/account/passkeys/remove"):
        hijack = bob.post(
            action, data={"csrf": bob_token, "credential": first_rename["credential"], "name": "x"}
        )
        assert hijack.status_code == 303
    listed = idp.browser.get("/account").text
    assert "Work key" in listed
    assert "Second" in listed
    forged = idp.browser.post("/account/passkeys/remove", data={**first_rename, "csrf": "wrong"})
    assert forged.status_code == 403
    idp.clock.advance(601)
    first_remove, second_remove = _forms(listed)["/account/passkeys/remove"]
    assert idp.browser.post("/account/passkeys/remove", data=first_remove).status_code == 303
    last = idp.browser.post("/account/passkeys/remove", data=second_remove)
    assert last.status_code == 403
    assert "sign in again first" in last.text
    assert "Second" in idp.browser.get("/account").text
    _signed_in_account(idp, idp.browser)
    assert idp.browser.post("/account/passkeys/remove", data=second_remove).status_code == 303
    assert "You have no passkeys yet" in idp.browser.get("/account").text
    assert second_rename["credential"] == second_remove["credential"]


def test_the_script_is_a_cached_static_file_and_the_pages_allow_no_inline_script(
    idp: ProviderHarness,
) -> None:
    script = idp.browser.get("/static/passkeys.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=3600"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "request.mediation = mediation" in script.text
    page = idp.browser.get("/signin")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/passkeys.js">']
    assert 'autocomplete="username webauthn"' in page.text
