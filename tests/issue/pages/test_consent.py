"""The consent step for third-party clients, through HTTP (AS-31, AS-34, AS-49, WEB-08, WEB-09, WEB-16)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tessera.issue.clients import register_client
from tessera.store import ClientRecord
from tessera.testing.forge import altered
from tessera.testing.idp import FULL_SCOPE, ISSUER, PARTNER_REDIRECT, ProviderHarness, query_of

OFFLINE = "Keep access while you are away: offline access, until you withdraw it"


def _codes(idp: ProviderHarness) -> int:
    with sqlite3.connect(idp.store.path) as db:
        count: int = db.execute("SELECT COUNT(*) FROM codes").fetchone()[0]
    return count


def _scopes_on(page: Any) -> list[str]:
    items = page.text.split('<ul class="scopes">')[1].split("</ul>")[0]
    return [item.split("</li>")[0] for item in items.split("<li>")[1:]]


def _partner(idp: ProviderHarness, **overrides: str | None) -> dict[str, str]:
    return idp.authorize_params("partner", **overrides)


def _consent_page(idp: ProviderHarness, params: dict[str, str], **kwargs: Any) -> Any:
    page = idp.consent_page(params, **kwargs)
    assert page.status_code == 200, page.text
    assert "/consent?request=" in str(page.url)
    return page


def _callback(response: Any, params: dict[str, str]) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(PARTNER_REDIRECT + "?")
    answer = query_of(location)
    assert answer["iss"] == ISSUER
    assert answer["state"] == params["state"]
    return answer


def _approved(idp: ProviderHarness, scope: str = FULL_SCOPE, **kwargs: Any) -> dict[str, str]:
    params = _partner(idp, scope=scope)
    answer = _callback(
        idp.decide(_consent_page(idp, params, **kwargs), "approve", kwargs.get("browser")), params
    )
    assert answer["code"]
    return answer


def test_first_party_clients_skip_consent(idp: ProviderHarness) -> None:
    params = idp.authorize_params("spa")
    callback = idp.sign_in(params)
    assert query_of(callback)["code"]
    assert idp.store.get_consent("usr_alice", "spa") is None


def test_consent_page_names_the_client_and_spells_out_offline_access(idp: ProviderHarness) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    assert "Partner Reports" in page.text
    assert "https://partner.example" in page.text
    assert _scopes_on(page) == [
        "Know who you are (your account identifier)",
        "See your name",
        "See your email address",
        OFFLINE,
        "Use the permission “demo:read”",
    ]
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _codes(idp) == 0


def test_approve_records_consent_and_completes_the_authorization(idp: ProviderHarness) -> None:
    params = _partner(idp)
    answer = _callback(idp.decide(_consent_page(idp, params), "approve"), params)
    consent = idp.store.get_consent("usr_alice", "partner")
    assert consent is not None
    assert consent.scopes == tuple(FULL_SCOPE.split())
    tokens = idp.exchange(answer["code"], idp.last_verifier, "partner", PARTNER_REDIRECT)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["refresh_token"]
    assert idp.hello(body["access_token"]).status_code == 200


def test_deny_redirects_with_access_denied_and_records_nothing(idp: ProviderHarness) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    answer = _callback(idp.decide(page, "deny"), params)
    assert answer["error"] == "access_denied"
    assert "code" not in answer
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _codes(idp) == 0
    replayed = idp.decide(page, "approve")
    assert replayed.status_code == 400
    assert "location" not in replayed.headers
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _approved(idp)["code"]


def test_second_visit_with_granted_scopes_skips_the_screen(idp: ProviderHarness) -> None:
    _approved(idp)
    params = _partner(idp, scope="openid demo:read")
    answer = _callback(idp.authorize(params), params)
    assert answer["code"]


def test_new_scope_shows_the_screen_again_listing_only_what_is_new(idp: ProviderHarness) -> None:
    _approved(idp, scope="openid profile")
    params = _partner(idp, scope="openid profile email offline_access")
    start = idp.authorize(params)
    assert start.status_code == 303
    assert "/consent?request=" in start.headers["location"]
    page = _consent_page(idp, params)
    assert _scopes_on(page) == ["See your email address", OFFLINE]
    _callback(idp.decide(page, "approve"), params)
    consent = idp.store.get_consent("usr_alice", "partner")
    assert consent is not None
    assert consent.scopes == ("openid", "profile", "email", "offline_access")


def test_prompt_consent_forces_the_screen(idp: ProviderHarness) -> None:
    _approved(idp)
    params = _partner(idp, prompt="consent")
    page = _consent_page(idp, params)
    assert "asks you to confirm what you allowed it before" in page.text
    assert OFFLINE in _scopes_on(page)
    assert _callback(idp.decide(page, "approve"), params)["code"]
    plain = _partner(idp)
    assert _callback(idp.authorize(plain), plain)["code"]


def test_prompt_none_without_consent_is_consent_required(idp: ProviderHarness) -> None:
    idp.sign_in(idp.authorize_params("spa"))
    params = _partner(idp, prompt="none")
    answer = _callback(idp.authorize(params), params)
    assert answer["error"] == "consent_required"
    assert _codes(idp) == 1  # the spa sign-in's code only
    _approved(idp)
    again = _partner(idp, prompt="none")
    assert _callback(idp.authorize(again), again)["code"]
    wider = _partner(idp, prompt="none", scope="openid")
    idp.store.revoke_consent("usr_alice", "partner")
    assert _callback(idp.authorize(wider), wider)["error"] == "consent_required"


def test_web09_a_get_changes_nothing(idp: ProviderHarness) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    fields = {"request": str(page.url).split("request=")[1], "decision": "approve"}
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    for query in (fields, {**fields, "csrf": csrf}):
        response = idp.browser.get("/consent", params=query, headers={"Sec-Fetch-Site": "cross-site"})
        assert "location" not in response.headers
        assert idp.store.get_consent("usr_alice", "partner") is None
    assert idp.browser.put("/consent", data={**fields, "csrf": csrf}).status_code == 405
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _codes(idp) == 0
    assert _callback(idp.decide(page, "approve"), params)["code"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
    ],
)
def test_web08_cross_site_post_is_refused_even_with_the_token(
    idp: ProviderHarness, headers: dict[str, str]
) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    fields = {"request": str(page.url).split("request=")[1], "decision": "approve"}
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    forged = idp.browser.post("/consent", data={**fields, "csrf": csrf}, headers=headers)
    assert forged.status_code == 403
    assert "location" not in forged.headers
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _callback(idp.decide(page, "approve"), params)["code"]


def test_web08_post_without_or_with_a_wrong_token_is_refused(idp: ProviderHarness) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    request_id = str(page.url).split("request=")[1]
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    for form in (
        {"request": request_id, "decision": "approve"},
        {"request": request_id, "decision": "approve", "csrf": altered(csrf)},
        {"request": request_id, "decision": "deny", "csrf": ""},
    ):
        refused = idp.browser.post("/consent", data=form)
        assert refused.status_code == 403
        assert idp.store.get_consent("usr_alice", "partner") is None
    assert _codes(idp) == 0
    assert _callback(idp.decide(page, "approve"), params)["code"]


def test_web08_token_is_bound_to_the_session_and_the_request(idp: ProviderHarness) -> None:
    alice_params = _partner(idp)
    alice_page = _consent_page(idp, alice_params)
    other_params = _partner(idp, scope="openid")
    other_page = _consent_page(idp, other_params)
    bob = idp.new_browser()
    bob_page = _consent_page(idp, _partner(idp), email="bob@example.com", browser=bob)
    alice_request = str(alice_page.url).split("request=")[1]
    token_of = {
        "bob's session": bob_page.text.split('name="csrf" value="')[1].split('"')[0],
        "another request": other_page.text.split('name="csrf" value="')[1].split('"')[0],
    }
    for token in token_of.values():
        refused = idp.browser.post(
            "/consent", data={"request": alice_request, "decision": "approve", "csrf": token}
        )
        assert refused.status_code == 403
    cross = bob.post(
        "/consent",
        data={
            "request": alice_request,
            "decision": "approve",
            "csrf": alice_page.text.split('name="csrf" value="')[1].split('"')[0],
        },
    )
    assert cross.status_code == 403
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert idp.store.get_consent("usr_bob", "partner") is None
    assert _callback(idp.decide(alice_page, "approve"), alice_params)["code"]


def test_consent_needs_a_session(idp: ProviderHarness) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    stranger = idp.new_browser()
    assert stranger.get(str(page.url)).status_code == 403
    assert idp.decide(page, "approve", browser=stranger).status_code == 403
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _callback(idp.decide(page, "approve"), params)["code"]


def test_as31_as34_web16_consent_page_headers(idp: ProviderHarness) -> None:
    params = _partner(idp)
    page = _consent_page(idp, params)
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self' https://partner.example;" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "https://" not in page.text.replace("https://partner.example", "")
    redirect = idp.decide(page, "approve")
    assert redirect.headers["referrer-policy"] == "no-referrer"
    assert redirect.headers["cache-control"] == "no-store"


def test_client_name_is_escaped_on_the_consent_page(idp: ProviderHarness) -> None:
    register_client(
        idp.store,
        ClientRecord(
            client_id="odd",
            name='<script>alert("x")</script>',
            redirect_uris=(PARTNER_REDIRECT,),
            first_party=False,
            scopes=("openid", "<b>bold</b>"),
        ),
    )
    page = _consent_page(
        idp, idp.authorize_params("odd", scope="openid <b>bold</b>", redirect_uri=PARTNER_REDIRECT)
    )
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "<b>bold</b>" not in page.text


def test_as49_refresh_fails_after_consent_is_revoked(idp: ProviderHarness) -> None:
    answer = _approved(idp)
    tokens = idp.exchange(answer["code"], idp.last_verifier, "partner", PARTNER_REDIRECT).json()
    bob = idp.new_browser()
    bob_answer = _approved(idp, email="bob@example.com", browser=bob)
    bob_tokens = idp.exchange(bob_answer["code"], idp.last_verifier, "partner", PARTNER_REDIRECT).json()
    spa = idp.tokens("spa")
    rotated = idp.refresh(tokens["refresh_token"], "partner")
    assert rotated.status_code == 200
    idp.store.revoke_consent("usr_alice", "partner")
    refused = idp.refresh(rotated.json()["refresh_token"], "partner")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert idp.hello(rotated.json()["access_token"]).status_code == 401
    assert idp.refresh(bob_tokens["refresh_token"], "partner").status_code == 200
    assert idp.refresh(spa["refresh_token"]).status_code == 200
    params = _partner(idp)
    assert idp.authorize(params).status_code == 303  # back to the consent page


def test_as49_code_issued_before_consent_was_revoked_is_refused(idp: ProviderHarness) -> None:
    answer = _approved(idp)
    idp.store.revoke_consent("usr_alice", "partner")
    refused = idp.exchange(answer["code"], idp.last_verifier, "partner", PARTNER_REDIRECT)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    fresh = _approved(idp)
    assert idp.exchange(fresh["code"], idp.last_verifier, "partner", PARTNER_REDIRECT).status_code == 200


def test_refresh_cannot_outgrow_a_narrowed_consent(idp: ProviderHarness) -> None:
    answer = _approved(idp)
    tokens = idp.exchange(answer["code"], idp.last_verifier, "partner", PARTNER_REDIRECT).json()
    idp.store.revoke_consent("usr_alice", "partner")
    idp.store.grant_consent("usr_alice", "partner", ["openid"], idp.clock.now)
    assert idp.refresh(tokens["refresh_token"], "partner").json()["error"] == "invalid_grant"


def test_a_request_without_scope_still_says_the_client_learns_who_you_are(idp: ProviderHarness) -> None:
    params = _partner(idp, scope=None)
    page = _consent_page(idp, params)
    assert _scopes_on(page) == ["Know who you are (your account identifier)"]
    assert _callback(idp.decide(page, "approve"), params)["code"]
    consent = idp.store.get_consent("usr_alice", "partner")
    assert consent is not None
    assert consent.scopes == ()
    again = _partner(idp, scope=None)
    assert _callback(idp.authorize(again), again)["code"]


def test_consent_page_cannot_skip_a_forced_sign_in(idp: ProviderHarness) -> None:
    idp.sign_in(idp.authorize_params("spa"))
    idp.clock.advance(5)
    params = _partner(idp, prompt="login")
    start = idp.authorize(params)
    assert start.status_code == 303
    request_id = start.headers["location"].split("request=")[1]
    shortcut = idp.browser.get(f"/consent?request={request_id}")
    assert shortcut.status_code == 200
    refused = idp.decide(shortcut, "approve")
    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert idp.store.get_consent("usr_alice", "partner") is None
    assert _codes(idp) == 1  # the spa sign-in's code only
    forced = _partner(idp, prompt="login")
    assert _callback(idp.decide(_consent_page(idp, forced), "approve"), forced)["code"]
    assert idp.store.get_consent("usr_alice", "partner") is not None
