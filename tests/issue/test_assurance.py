"""``amr`` and ``acr`` in the tokens of each sign-in method, and ``acr_values`` asking for MFA."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tessera.issue.assurance import ACR_VALUES_SUPPORTED, requires_multi_factor
from tessera.store import User
from tessera.testing.idp import SPA_REDIRECT, ProviderHarness, query_of

from ..passwordless.soft_authenticator import UP, SoftAuthenticator
from .totp_steps import (
    ACR_MULTI_FACTOR,
    ACR_SINGLE_FACTOR,
    ALICE,
    at_client,
    claims_of,
    enrol,
    hidden_fields,
    now_code,
    submit_totp,
    totp_page,
)

CAROL_PHONE = "+447400123456"
_SMS_CODE = re.compile(r"\b([0-9]{6})\b")
_LINK = re.compile(r"(http\S+/signin/link\?\S+)")


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    harness = ProviderHarness(tmp_path, issuer="http://localhost:8000")
    harness.store.put_user(User("usr_carol", "carol@example.com", True, "Carol", (), phone=CAROL_PHONE))
    yield harness
    harness.close()


def _start(idp: ProviderHarness, browser: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    """Open an authorization request; (its params, the sign-in page's hidden fields)."""
    idp.clock.advance(31)
    request = idp.authorize_params()
    started = idp.authorize(request, browser)
    page = browser.get(started.headers["location"])
    return request, hidden_fields(page.text)


def _by_sms(idp: ProviderHarness, browser: TestClient) -> tuple[Any, dict[str, str]]:
    request, fields = _start(idp, browser)
    before = max((int(m["id"]) for m in idp.outbox.messages()), default=0)
    asked = browser.post("/signin/phone", data={**fields, "phone": CAROL_PHONE})
    assert asked.status_code == 303, asked.text
    idp.settle_mail()
    texts = [m for m in idp.outbox.messages() if m["to"] == CAROL_PHONE and int(m["id"]) > before]
    match = _SMS_CODE.search(str(texts[-1]["text"]))
    assert match is not None
    page = browser.get(asked.headers["location"])
    return browser.post(
        "/signin/phone/code", data={**hidden_fields(page.text), "code": match.group(1)}
    ), request


def _by_link(idp: ProviderHarness, browser: TestClient) -> tuple[Any, dict[str, str]]:
    request, fields = _start(idp, browser)
    before = max((int(m["id"]) for m in idp.outbox.messages()), default=0)
    assert browser.post("/signin", data={**fields, "email": ALICE.email}).status_code == 303
    match = _LINK.search(str(idp.wait_for_mail(ALICE.email, after=before)["text"]))
    assert match is not None
    landed = browser.get(browser.get(match.group(1)).headers["location"])
    return browser.post("/signin/link", data=hidden_fields(landed.text)), request


def _by_passkey(
    idp: ProviderHarness, browser: TestClient, device: SoftAuthenticator, **forged: Any
) -> tuple[Any, dict[str, str]]:
    idp.clock.advance(31)
    request = idp.authorize_params()
    signin = browser.get(idp.authorize(request, browser).headers["location"])
    tag = re.search(r'<section id="passkey-signin"([^>]*)>', signin.text)
    assert tag is not None
    data = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1)))
    origin = {"Origin": idp.issuer}
    options = browser.post(data["options"], json={"csrf": data["csrf"]}, headers=origin).json()
    body = {
        "csrf": data["csrf"],
        "request": data["request"],
        "then": "",
        "credential": device.get(options, **forged),
    }
    return browser.post(data["verify"], json=body, headers=origin), request


def _register_passkey(idp: ProviderHarness, device: SoftAuthenticator) -> None:
    browser = idp.new_browser()
    totp_page(idp, browser)  # Alice has no factor yet: a session
    idp.clock.advance(1)
    account = browser.get("/account").text
    tag = re.search(r'<section id="passkey-add"([^>]*)>', account)
    assert tag is not None
    data = dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1)))
    origin = {"Origin": idp.issuer}
    options = browser.post(data["options"], json={"csrf": data["csrf"]}, headers=origin).json()
    added = browser.post(
        data["verify"],
        json={"csrf": data["csrf"], "name": "laptop", "credential": device.create(options)},
        headers=origin,
    )
    assert added.status_code == 200, added.text


def test_an_email_code_is_otp_and_single_factor(idp: ProviderHarness) -> None:
    page, request = totp_page(idp, idp.browser)
    id_claims, access, _ = claims_of(idp, query_of(page.headers["location"])["code"], request)
    assert id_claims["amr"] == ["otp"] and id_claims["acr"] == ACR_SINGLE_FACTOR
    assert access["amr"] == ["otp"] and access["acr"] == ACR_SINGLE_FACTOR


def test_a_magic_link_is_otp_and_with_totp_two_factors(idp: ProviderHarness) -> None:
    done, request = _by_link(idp, idp.browser)
    id_claims, _, _ = claims_of(idp, at_client(idp.browser, done), request)
    assert id_claims["amr"] == ["otp"] and id_claims["acr"] == ACR_SINGLE_FACTOR
    app, _ = enrol(idp)
    browser = idp.new_browser()
    done, request = _by_link(idp, browser)
    assert done.status_code == 303 and done.headers["location"] == "/signin/totp"
    id_claims, _, _ = claims_of(idp, at_client(browser, submit_totp(browser, now_code(idp, app))), request)
    assert id_claims["amr"] == ["otp", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR


def test_an_sms_code_is_otp_and_sms_and_with_totp_two_factors(idp: ProviderHarness) -> None:
    done, request = _by_sms(idp, idp.browser)
    id_claims, _, _ = claims_of(idp, at_client(idp.browser, done), request)
    assert id_claims["amr"] == ["otp", "sms"] and id_claims["acr"] == ACR_SINGLE_FACTOR
    carol = idp.store.get_user("usr_carol")
    app, _ = enrol(idp, carol)
    browser = idp.new_browser()
    done, request = _by_sms(idp, browser)
    assert done.headers["location"] == "/signin/totp"
    id_claims, _, _ = claims_of(idp, at_client(browser, submit_totp(browser, now_code(idp, app))), request)
    assert id_claims["amr"] == ["otp", "sms", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR


def test_a_passkey_that_verified_its_user_is_two_factors_and_skips_the_totp_step(
    idp: ProviderHarness,
) -> None:
    device = SoftAuthenticator(idp.issuer)
    _register_passkey(idp, device)
    app, _ = enrol(idp)
    browser = idp.new_browser()
    answer, request = _by_passkey(idp, browser, device)
    assert answer.status_code == 200, answer.text
    redirect = answer.json()["redirect"]
    assert "/authorize/continue" in redirect
    landed = browser.get(redirect)
    id_claims, _, _ = claims_of(idp, query_of(landed.headers["location"])["code"], request)
    assert id_claims["amr"] == ["hwk", "user", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR
    # Without user verification (where the policy accepts that) it is one factor: Alice's TOTP is
    # asked for, then both count.
    passkeys = idp.provider.passkeys
    passkeys.policy = replace(passkeys.policy, require_user_verification=False)
    other = idp.new_browser()
    answer, request = _by_passkey(idp, other, device, flags=UP)
    assert answer.status_code == 200 and answer.json()["redirect"] == "/signin/totp", answer.text
    assert other.cookies.get("tessera-session") is None
    code = at_client(other, submit_totp(other, now_code(idp, app)))
    id_claims, _, _ = claims_of(idp, code, request)
    assert id_claims["amr"] == ["hwk", "user", "otp", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR


def test_a_refresh_keeps_the_session_amr_and_acr(idp: ProviderHarness) -> None:
    app, _ = enrol(idp)
    _, request = totp_page(idp, idp.browser)
    id_claims, _, body = claims_of(
        idp, at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app))), request
    )
    refreshed = idp.refresh(body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    from tessera.verify import Verifier

    jwks = idp.browser.get("/jwks").json()
    again = Verifier(issuer=idp.issuer, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock).verify(
        refreshed.json()["id_token"]
    )
    assert again["amr"] == id_claims["amr"] == ["otp", "mfa"] and again["acr"] == ACR_MULTI_FACTOR


def test_discovery_names_the_acr_values_and_amr_acr_claims(idp: ProviderHarness) -> None:
    document = idp.browser.get("/.well-known/openid-configuration").json()
    assert document["acr_values_supported"] == list(ACR_VALUES_SUPPORTED)
    assert {"acr", "amr"} <= set(document["claims_supported"])


def test_which_acr_values_ask_for_mfa() -> None:
    assert requires_multi_factor(ACR_MULTI_FACTOR)
    assert requires_multi_factor(f"urn:unknown {ACR_MULTI_FACTOR}")
    assert not requires_multi_factor(f"{ACR_MULTI_FACTOR} {ACR_SINGLE_FACTOR}")
    assert not requires_multi_factor("urn:unknown")
    assert not requires_multi_factor(None)


def test_acr_values_mfa_steps_a_single_factor_session_up_with_totp(idp: ProviderHarness) -> None:
    page, _ = totp_page(idp, idp.browser)  # Alice signs in by email, one factor
    assert page.status_code == 302
    app, _ = enrol(idp)
    idp.clock.advance(1)
    mfa = idp.authorize_params(acr_values=ACR_MULTI_FACTOR)
    asked = idp.authorize(mfa)
    assert asked.status_code == 303 and asked.headers["location"] == "/signin/totp"
    id_claims, _, _ = claims_of(
        idp, at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app))), mfa
    )
    assert id_claims["acr"] == ACR_MULTI_FACTOR and id_claims["amr"] == ["otp", "mfa"]
    # The stepped-up session now satisfies the next such request at once.
    again = idp.authorize(idp.authorize_params(acr_values=ACR_MULTI_FACTOR))
    assert again.status_code == 302 and "code" in query_of(again.headers["location"])


def test_acr_values_mfa_without_a_second_factor_is_access_denied(idp: ProviderHarness) -> None:
    totp_page(idp, idp.browser)
    refused = idp.authorize(idp.authorize_params(acr_values=ACR_MULTI_FACTOR))
    assert refused.status_code == 302 and refused.headers["location"].startswith(SPA_REDIRECT)
    assert query_of(refused.headers["location"])["error"] == "access_denied"
    either = idp.authorize(idp.authorize_params(acr_values=f"{ACR_MULTI_FACTOR} {ACR_SINGLE_FACTOR}"))
    assert "code" in query_of(either.headers["location"])


def test_acr_values_mfa_with_prompt_none_is_interaction_required(idp: ProviderHarness) -> None:
    totp_page(idp, idp.browser)
    enrol(idp)
    silent = idp.authorize(idp.authorize_params(acr_values=ACR_MULTI_FACTOR, prompt="none"))
    assert query_of(silent.headers["location"])["error"] == "interaction_required"
    assert "code" in query_of(idp.authorize(idp.authorize_params(prompt="none")).headers["location"])


def test_a_refresh_after_the_session_has_expired_still_says_how_the_user_signed_in(
    idp: ProviderHarness,
) -> None:
    app, _ = enrol(idp)
    _, request = totp_page(idp, idp.browser)
    code = at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app)))
    id_claims, _, body = claims_of(idp, code, request)
    idp.clock.advance(idp.provider.settings.session_seconds + 1)
    assert idp.browser.get("/account").status_code == 303  # the session is over
    refreshed = idp.refresh(body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    from tessera.verify import Verifier

    jwks = idp.browser.get("/jwks").json()
    access = Verifier(
        issuer=idp.issuer, audience=idp.issuer, token_type="at+jwt", jwks=jwks, clock=idp.clock
    ).verify(refreshed.json()["access_token"])
    assert id_claims["amr"] == access["amr"] == ["otp", "mfa"] and access["acr"] == ACR_MULTI_FACTOR
