"""The TOTP step of a sign-in over HTTP: PWL-21 to PWL-23, the pending sign-in's binding, amr and acr.

Alice has a confirmed factor (enrolled through the core); the codes her app would show are
computed with pyotp at the provider's frozen time. Every refusal here is paired with the genuine
input accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.encoding import b64url_decode, b64url_encode
from tessera.testing.idp import ProviderHarness

from ..totp_steps import (
    ACR_MULTI_FACTOR,
    BOB,
    at_client,
    claims_of,
    enrol,
    hidden_fields,
    now_code,
    put_cookie,
    submit_totp,
    totp_page,
)

COOKIE = "tessera-second-factor"


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    harness = ProviderHarness(tmp_path)
    yield harness
    harness.close()


def test_an_email_code_then_the_app_code_signs_in_with_two_factors(
    idp: ProviderHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    app, _ = enrol(idp)
    page, request = totp_page(idp, idp.browser)
    assert page.status_code == 200 and str(page.url).endswith("/signin/totp")
    assert "Enter your authenticator code" in page.text
    assert idp.browser.cookies.get("tessera-session") is None  # no session before the second factor
    wrong = submit_totp(idp.browser, "000000" if now_code(idp, app) != "000000" else "111111")
    assert wrong.status_code == 400 and "That code is not valid" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and idp.browser.cookies.get("tessera-session") is None
    code = at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app)))
    id_claims, access, _ = claims_of(idp, code, request)
    assert id_claims["amr"] == ["otp", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR
    assert access["amr"] == ["otp", "mfa"] and access["acr"] == ACR_MULTI_FACTOR
    assert '"event": "second_factor_required"' in caplog.text


def test_a_code_is_accepted_once_per_step_then_the_next_step_works(idp: ProviderHarness) -> None:
    app, _ = enrol(idp)
    totp_page(idp, idp.browser)
    used = now_code(idp, app)
    at_client(idp.browser, submit_totp(idp.browser, used))
    other = idp.new_browser()
    totp_page(idp, other)  # 31 s later: the used code is still inside the ±1 step window ...
    assert app.verify(used, for_time=idp.clock.now, valid_window=1) and now_code(idp, app) != used
    replayed = submit_totp(other, used)  # ... and refused only because its step was used
    assert replayed.status_code == 400 and other.cookies.get("tessera-session") is None
    at_client(other, submit_totp(other, now_code(idp, app)))


def test_a_recovery_code_signs_in_once(idp: ProviderHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tessera.audit")
    _, codes = enrol(idp)
    assert len(codes) == 10 and len(set(codes)) == 10
    _, request = totp_page(idp, idp.browser)
    code = at_client(idp.browser, submit_totp(idp.browser, codes[3].upper()))  # as typed, in capitals
    id_claims, _, _ = claims_of(idp, code, request)
    assert id_claims["amr"] == ["otp", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR
    assert '"event": "totp_recovery_code_used"' in caplog.text
    again = idp.new_browser()
    totp_page(idp, again)
    assert submit_totp(again, codes[3]).status_code == 400
    at_client(again, submit_totp(again, codes[4]))


def test_wrong_codes_are_throttled_and_then_even_the_right_one_waits(idp: ProviderHarness) -> None:
    app, codes = enrol(idp)
    totp_page(idp, idp.browser)
    right = now_code(idp, app)
    wrong = [c for c in ("123456", "654321", "111111", "222222", "333333", "444444") if c != right][:5]
    for guess in wrong:
        assert submit_totp(idp.browser, guess).status_code == 400
    throttled = submit_totp(idp.browser, right)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many wrong codes" in throttled.text
    assert submit_totp(idp.browser, codes[0]).status_code == 429  # recovery codes share the budget
    idp.clock.advance(int(throttled.headers["retry-after"]))
    totp_page(idp, idp.browser)  # the pending sign-in expired meanwhile: pass the email code again
    at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app)))


def test_the_pending_sign_in_works_only_in_its_browser(idp: ProviderHarness) -> None:
    app, _ = enrol(idp)
    totp_page(idp, idp.browser)
    elsewhere = idp.new_browser()
    refused = elsewhere.get("/signin/totp")
    assert refused.status_code == 400 and "expired or was already completed" in refused.text
    fields = hidden_fields(idp.browser.get("/signin/totp").text)
    put_cookie(elsewhere, "tessera-csrf", idp.browser.cookies["tessera-csrf"])
    posted = elsewhere.post("/signin/totp", data={**fields, "code": now_code(idp, app)})
    assert posted.status_code == 400 and elsewhere.cookies.get("tessera-session") is None
    at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app)))


def test_an_altered_pending_sign_in_is_refused(idp: ProviderHarness) -> None:
    alice_app, _ = enrol(idp)
    enrol(idp, BOB)
    mallory = idp.new_browser()
    page, _ = totp_page(idp, mallory, email=BOB.email)  # Bob passes his own email code ...
    fields = hidden_fields(page.text)
    payload, _, mac = mallory.cookies[COOKIE].partition(".")
    as_alice = b64url_encode(b64url_decode(payload).replace(b"usr_bob", b"usr_alice"))
    put_cookie(mallory, COOKIE, f"{as_alice}.{mac}")  # ... and makes his pending sign-in name Alice
    assert mallory.get("/signin/totp").status_code == 400
    forged = mallory.post("/signin/totp", data={**fields, "code": now_code(idp, alice_app)})
    assert forged.status_code == 400 and mallory.cookies.get("tessera-session") is None
    totp_page(idp, idp.browser)
    at_client(idp.browser, submit_totp(idp.browser, now_code(idp, alice_app)))


def test_the_pending_sign_in_is_single_use_and_short_lived(idp: ProviderHarness) -> None:
    app, _ = enrol(idp)
    totp_page(idp, idp.browser)
    kept = idp.browser.cookies[COOKIE]
    at_client(idp.browser, submit_totp(idp.browser, now_code(idp, app)))
    assert idp.browser.cookies.get(COOKIE) is None
    replay = idp.new_browser()
    put_cookie(replay, COOKIE, kept)
    idp.clock.advance(30)
    page = replay.get("/signin/totp")
    assert page.status_code == 200  # the cookie is intact and alive ...
    used = replay.post("/signin/totp", data={**hidden_fields(page.text), "code": now_code(idp, app)})
    assert used.status_code == 400 and replay.cookies.get("tessera-session") is None  # ... but used
    totp_page(idp, idp.browser)
    idp.clock.advance(301)
    late = idp.browser.get("/signin/totp")
    assert late.status_code == 400 and "expired" in late.text
