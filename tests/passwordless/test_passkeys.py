"""Passkey ceremonies against PWL-25..PWL-37 with a software authenticator, on SQLite and a frozen clock.

Every forged response is shown refused next to the genuine one accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tessera.encoding import b64url_decode, b64url_encode
from tessera.passwordless.passkeys import (
    PasskeyPolicy,
    PasskeyRejected,
    Passkeys,
    RelyingParty,
    SignCountRegression,
    passkey_amr,
)
from tessera.store import User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import FakeClock

from .soft_authenticator import BE, BS, UP, UV, SoftAuthenticator

ORIGIN = "https://id.example.com"
ALICE = User("usr_alice", "alice@example.com", name="Alice")
BOB = User("usr_bob", "bob@example.com")
SESSION = "session-cookie-value"
BROWSER = "csrf-cookie-value"


class Rig:
    """Ceremonies over a store and a clock, with one authenticator per test."""

    def __init__(self, path: Path, **policy: Any) -> None:
        self.clock = FakeClock()
        self.store = SQLiteStore(path)
        self.passkeys = Passkeys(
            self.store,
            RelyingParty.for_issuer(ORIGIN),
            policy=PasskeyPolicy(**policy),
            clock=self.clock,
        )
        self.authenticator = SoftAuthenticator(ORIGIN)

    def register(self, authenticator: SoftAuthenticator | None = None, **forged: Any) -> Any:
        device = authenticator or self.authenticator
        options = self.passkeys.registration_options(ALICE, SESSION)
        return self.passkeys.register(ALICE, SESSION, device.create(options, **forged), "My laptop")

    def sign_in(self, authenticator: SoftAuthenticator | None = None, **forged: Any) -> Any:
        device = authenticator or self.authenticator
        options = self.passkeys.sign_in_options(BROWSER)
        return self.passkeys.sign_in(BROWSER, device.get(options, **forged))


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    built = Rig(tmp_path / "store.db")
    yield built
    built.store.close()


def _reason(exc: pytest.ExceptionInfo[PasskeyRejected]) -> str:
    return exc.value.reason


def test_register_then_sign_in_usernameless(rig: Rig) -> None:
    options = rig.passkeys.registration_options(ALICE, SESSION)
    assert options["rp"] == {"id": "id.example.com", "name": "Tessera"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert len(b64url_decode(options["challenge"])) == 32
    stored = rig.passkeys.register(ALICE, SESSION, rig.authenticator.create(options), "  My\tlaptop\x00 ")
    assert stored.name == "My laptop"
    assert stored.transports == ("internal",)
    assert (stored.backup_eligible, stored.backed_up, stored.sign_count) == (False, False, 0)
    request = rig.passkeys.sign_in_options(BROWSER)
    assert request["allowCredentials"] == []
    assert request["userVerification"] == "required"
    result = rig.passkeys.sign_in(BROWSER, rig.authenticator.get(request))
    assert result.user_id == ALICE.user_id
    assert result.amr == ("hwk", "user", "mfa")
    used = rig.store.get_passkey(stored.credential_id)
    assert used is not None
    assert used.sign_count == 1
    assert used.last_used_at == rig.clock.now


def test_several_named_passkeys_and_exclusion_list(rig: Rig) -> None:
    first = rig.register()
    rig.clock.advance(1)
    second = rig.register(SoftAuthenticator(ORIGIN, backup_eligible=True))
    assert [p.credential_id for p in rig.store.list_passkeys(ALICE.user_id)] == [
        first.credential_id,
        second.credential_id,
    ]
    assert second.backup_eligible
    options = rig.passkeys.registration_options(ALICE, SESSION)
    assert {c["id"] for c in options["excludeCredentials"]} == {first.credential_id, second.credential_id}
    assert rig.store.rename_passkey(ALICE.user_id, first.credential_id, "Work key")
    assert not rig.store.rename_passkey(BOB.user_id, first.credential_id, "stolen")
    assert not rig.store.remove_passkey(BOB.user_id, first.credential_id, allow_last=True)
    assert rig.store.remove_passkey(ALICE.user_id, first.credential_id, allow_last=False)
    assert not rig.store.remove_passkey(ALICE.user_id, second.credential_id, allow_last=False)
    assert rig.store.remove_passkey(ALICE.user_id, second.credential_id, allow_last=True)
    assert rig.store.list_passkeys(ALICE.user_id) == ()


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://id.example.com",
        "https://id.example.com:8443",
        "https://sub.id.example.com",
        "null",
    ],
)
def test_pwl25_origin_mismatch_refused_at_both_ceremonies(rig: Rig, origin: str) -> None:
    with pytest.raises(PasskeyRejected):
        rig.register(origin=origin)
    rig.register()
    with pytest.raises(PasskeyRejected):
        rig.sign_in(origin=origin)
    assert rig.sign_in().user_id == ALICE.user_id


@pytest.mark.parametrize("rp_id", ["evil.example", "example.com"])
def test_pwl26_rp_id_hash_mismatch_refused(rig: Rig, rp_id: str) -> None:
    with pytest.raises(PasskeyRejected):
        rig.register(rp_id=rp_id)
    rig.register()
    with pytest.raises(PasskeyRejected):
        rig.sign_in(rp_id=rp_id)
    assert rig.sign_in().user_id == ALICE.user_id


def test_pwl27_ceremony_type_swapped(rig: Rig) -> None:
    with pytest.raises(PasskeyRejected) as at_registration:
        rig.register(kind="webauthn.get")
    assert _reason(at_registration) == "wrong ceremony type"
    rig.register()
    with pytest.raises(PasskeyRejected) as at_sign_in:
        rig.sign_in(kind="webauthn.create")
    assert _reason(at_sign_in) == "wrong ceremony type"


def test_pwl28_replayed_assertion_refused(rig: Rig) -> None:
    rig.register()
    options = rig.passkeys.sign_in_options(BROWSER)
    assertion = rig.authenticator.get(options)
    assert rig.passkeys.sign_in(BROWSER, assertion).user_id == ALICE.user_id
    with pytest.raises(PasskeyRejected) as replay:
        rig.passkeys.sign_in(BROWSER, assertion)
    assert _reason(replay) == "unknown, used or expired challenge"


def test_pwl28_challenge_burnt_by_a_failed_attempt(rig: Rig) -> None:
    rig.register()
    options = rig.passkeys.sign_in_options(BROWSER)
    with pytest.raises(PasskeyRejected):
        rig.passkeys.sign_in(BROWSER, rig.authenticator.get(options, origin="https://evil.example"))
    with pytest.raises(PasskeyRejected) as second:
        rig.passkeys.sign_in(BROWSER, rig.authenticator.get(options))
    assert _reason(second) == "unknown, used or expired challenge"


def test_pwl28_challenge_of_another_session_or_purpose_refused(rig: Rig) -> None:
    rig.register()
    options = rig.passkeys.sign_in_options("another-browser")
    with pytest.raises(PasskeyRejected) as other_session:
        rig.passkeys.sign_in(BROWSER, rig.authenticator.get(options))
    assert _reason(other_session) == "challenge issued to another session"
    registration = rig.passkeys.registration_options(ALICE, BROWSER)
    with pytest.raises(PasskeyRejected) as other_purpose:
        rig.passkeys.sign_in(BROWSER, rig.authenticator.get({**registration, "rpId": "id.example.com"}))
    assert _reason(other_purpose) == "challenge issued for another ceremony"
    for_alice = rig.passkeys.registration_options(ALICE, SESSION)
    with pytest.raises(PasskeyRejected) as other_user:
        rig.passkeys.register(BOB, SESSION, SoftAuthenticator(ORIGIN).create(for_alice), "x")
    assert _reason(other_user) == "challenge issued for another ceremony"
    assert rig.sign_in().user_id == ALICE.user_id


def test_pwl28_expired_challenge_refused(rig: Rig) -> None:
    rig.register()
    options = rig.passkeys.sign_in_options(BROWSER)
    rig.clock.advance(300)
    with pytest.raises(PasskeyRejected) as stale:
        rig.passkeys.sign_in(BROWSER, rig.authenticator.get(options))
    assert _reason(stale) == "unknown, used or expired challenge"
    fresh = rig.passkeys.sign_in_options(BROWSER)
    rig.clock.advance(299)
    assert rig.passkeys.sign_in(BROWSER, rig.authenticator.get(fresh)).user_id == ALICE.user_id


def test_pwl28_made_up_challenge_refused(rig: Rig) -> None:
    rig.register()
    with pytest.raises(PasskeyRejected) as unknown:
        rig.passkeys.sign_in(
            BROWSER, rig.authenticator.get({"challenge": b64url_encode(bytes(32)), "rpId": "id.example.com"})
        )
    assert _reason(unknown) == "unknown, used or expired challenge"


def test_pwl29_sign_count_regression_refused_and_counted_forward(rig: Rig) -> None:
    stored = rig.register()
    assert rig.sign_in(sign_count=10).user_id == ALICE.user_id
    for regressed in (5, 10):
        with pytest.raises(SignCountRegression) as cloned:
            rig.sign_in(sign_count=regressed)
        assert cloned.value.credential.user_id == ALICE.user_id
        assert cloned.value.code == "passkey_sign_count_regression"
    assert rig.sign_in(sign_count=11).user_id == ALICE.user_id
    after = rig.store.get_passkey(stored.credential_id)
    assert after is not None
    assert after.sign_count == 11


def test_pwl29_a_counter_that_stays_zero_is_allowed(rig: Rig) -> None:
    zero = SoftAuthenticator(ORIGIN, counter_step=0)
    rig.register(zero)
    assert rig.sign_in(zero).user_id == ALICE.user_id
    assert rig.sign_in(zero).user_id == ALICE.user_id


def test_pwl29_counter_compare_and_set_has_one_winner(rig: Rig) -> None:
    stored = rig.register()
    assert rig.store.record_passkey_use(stored.credential_id, 0, 3, False, 1.0)
    assert not rig.store.record_passkey_use(stored.credential_id, 0, 4, False, 1.0)


def test_pwl30_user_presence_and_verification_required(rig: Rig) -> None:
    with pytest.raises(PasskeyRejected):
        rig.register(flags=UP)
    rig.register()
    with pytest.raises(PasskeyRejected):
        rig.sign_in(flags=UV)
    with pytest.raises(PasskeyRejected):
        rig.sign_in(flags=UP)
    assert rig.sign_in(flags=UP | UV).user_id == ALICE.user_id


def test_pwl30_presence_only_when_policy_allows(tmp_path: Path) -> None:
    lenient = Rig(tmp_path / "lenient.db", require_user_verification=False)
    lenient.register(flags=UP)
    result = lenient.sign_in(flags=UP)
    assert result.amr == ("hwk", "user")
    with pytest.raises(PasskeyRejected):
        lenient.sign_in(flags=UV)
    lenient.store.close()


def test_pwl31_backup_state_without_eligibility_refused(rig: Rig) -> None:
    with pytest.raises(PasskeyRejected):
        rig.register(flags=UP | UV | BS)
    rig.register()
    with pytest.raises(PasskeyRejected):
        rig.sign_in(flags=UP | UV | BS)
    assert rig.sign_in().user_id == ALICE.user_id


def test_pwl31_backup_eligibility_change_refused_backup_state_recorded(rig: Rig) -> None:
    stored = rig.register()
    with pytest.raises(PasskeyRejected) as changed:
        rig.sign_in(flags=UP | UV | BE)
    assert _reason(changed) == "backup eligibility changed since registration"
    synced = SoftAuthenticator(ORIGIN, backup_eligible=True)
    rig.register(synced)
    result = rig.sign_in(synced, flags=UP | UV | BE | BS)
    assert result.amr == ("swk", "user", "mfa")
    after = rig.store.get_passkey(result.credential.credential_id)
    assert after is not None
    assert (after.backup_eligible, after.backed_up) == (True, True)
    assert stored.credential_id != after.credential_id


def test_pwl32_user_handle_must_own_the_credential(rig: Rig) -> None:
    rig.register()
    with pytest.raises(PasskeyRejected) as wrong_owner:
        rig.sign_in(user_handle=BOB.user_id.encode())
    assert _reason(wrong_owner) == "userHandle does not own the credential"
    with pytest.raises(PasskeyRejected):
        rig.sign_in(user_handle=b"")
    unknown = SoftAuthenticator(ORIGIN)
    unknown.user_handle = ALICE.user_id.encode()
    with pytest.raises(PasskeyRejected) as not_registered:
        rig.sign_in(unknown)
    assert _reason(not_registered) == "unknown credential"
    assert rig.sign_in().user_id == ALICE.user_id


@pytest.mark.parametrize(
    ("fmt", "statement"),
    [("packed", {}), ("made-up", {}), ("none", {"sig": b"\x00"}), ("packed", {"alg": -7, "sig": b"\x00"})],
)
def test_pwl33_attestation_statements_that_do_not_verify_refused(
    rig: Rig, fmt: str, statement: dict[str, Any]
) -> None:
    with pytest.raises(PasskeyRejected):
        rig.register(fmt=fmt, att_stmt=statement)
    assert rig.register().user_id == ALICE.user_id


def test_pwl34_credential_id_registered_twice_or_too_long_refused(rig: Rig) -> None:
    first = rig.register()
    twin = SoftAuthenticator(ORIGIN)
    with pytest.raises(PasskeyRejected) as duplicate:
        rig.register(twin, credential_id=b64url_decode(first.credential_id))
    assert _reason(duplicate) == "credential id already registered"
    with pytest.raises(PasskeyRejected) as too_long:
        rig.register(SoftAuthenticator(ORIGIN), credential_id=bytes(1024))
    assert _reason(too_long) == "credential id too long"
    assert rig.register(SoftAuthenticator(ORIGIN), credential_id=bytes(1023)).user_id == ALICE.user_id


def test_pwl34_too_many_passkeys_refused(tmp_path: Path) -> None:
    capped = Rig(tmp_path / "capped.db", max_passkeys_per_user=1)
    capped.register()
    with pytest.raises(PasskeyRejected) as too_many:
        capped.register(SoftAuthenticator(ORIGIN))
    assert _reason(too_many) == "too many passkeys"
    capped.store.close()


def _with_client_data(assertion: dict[str, Any], data: bytes) -> dict[str, Any]:
    return {**assertion, "response": {**assertion["response"], "clientDataJSON": b64url_encode(data)}}


def test_pwl35_malformed_responses_are_rejections_not_crashes(rig: Rig) -> None:
    rig.register()
    options = rig.passkeys.sign_in_options(BROWSER)
    genuine = rig.authenticator.get(options)
    challenge = options["challenge"]
    duplicate = (
        f'{{"type":"webauthn.get","challenge":"{challenge}","origin":"{ORIGIN}",'
        '"origin":"https://evil.example"}'
    ).encode()
    broken: list[Any] = [
        {},
        {"response": "x"},
        {"response": {"clientDataJSON": 7}},
        _with_client_data(genuine, b"[]"),
        _with_client_data(genuine, b"not json"),
        _with_client_data(genuine, duplicate),
        _with_client_data(genuine, b"{" + b" " * 1_000_000 + b"}"),
        {**genuine, "response": {**genuine["response"], "authenticatorData": b64url_encode(bytes(36))}},
        {**genuine, "response": {**genuine["response"], "authenticatorData": "!!"}},
        {**genuine, "response": {**genuine["response"], "signature": 5}},
        {**genuine, "rawId": ["x"]},
    ]
    for response in broken:
        with pytest.raises(PasskeyRejected):
            rig.passkeys.sign_in(BROWSER, response)
    fresh = rig.passkeys.sign_in_options(BROWSER)
    assertion = rig.authenticator.get(fresh)
    trailing = b64url_decode(assertion["response"]["authenticatorData"]) + b"\x00"
    with pytest.raises(PasskeyRejected):
        rig.passkeys.sign_in(
            BROWSER,
            {
                **assertion,
                "response": {**assertion["response"], "authenticatorData": b64url_encode(trailing)},
            },
        )
    assert rig.sign_in().user_id == ALICE.user_id


def test_pwl36_cross_origin_ceremony_refused(rig: Rig) -> None:
    with pytest.raises(PasskeyRejected):
        rig.register(client_data_extra={"crossOrigin": True})
    rig.register()
    for extra in ({"crossOrigin": True}, {"crossOrigin": "yes"}, {"topOrigin": "https://evil.example"}):
        with pytest.raises(PasskeyRejected) as embedded:
            rig.sign_in(client_data_extra=extra)
        assert _reason(embedded) == "cross-origin ceremony"
    assert rig.sign_in().user_id == ALICE.user_id


def test_pwl37_zero_and_raw_ecdsa_signatures_refused(rig: Rig) -> None:
    rig.register()
    for raw in (False, True):
        options = rig.passkeys.sign_in_options(BROWSER)
        assertion = rig.authenticator.get(options)
        r, s = decode_dss_signature(b64url_decode(assertion["response"]["signature"]))
        zero_der = bytes.fromhex("3006020100020100")
        forged_signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") if raw else zero_der
        forged = {
            **assertion,
            "response": {**assertion["response"], "signature": b64url_encode(forged_signature)},
        }
        with pytest.raises(PasskeyRejected):
            rig.passkeys.sign_in(BROWSER, forged)
    assert rig.sign_in().user_id == ALICE.user_id


def test_forged_signature_by_another_key_refused(rig: Rig) -> None:
    rig.register()
    impostor = SoftAuthenticator(ORIGIN)
    impostor.credential_id = rig.authenticator.credential_id
    impostor.user_handle = ALICE.user_id.encode()
    with pytest.raises(PasskeyRejected):
        rig.sign_in(impostor)
    assert rig.sign_in().user_id == ALICE.user_id


def test_dev_relying_party_is_localhost_with_the_issuer_port() -> None:
    for issuer in ("http://127.0.0.1:8123", "http://localhost:8123", "http://[::1]:8123"):
        dev = RelyingParty.for_issuer(issuer)
        assert (dev.rp_id, dev.origins) == ("localhost", ("http://localhost:8123",))
    hosted = RelyingParty.for_issuer("https://id.example.com/tenant")
    assert (hosted.rp_id, hosted.origins) == ("id.example.com", ("https://id.example.com",))


def test_passkey_amr_by_backup_eligibility_and_verification(rig: Rig) -> None:
    device_bound = rig.register()
    assert passkey_amr(device_bound, True) == ("hwk", "user", "mfa")
    assert passkey_amr(device_bound, False) == ("hwk", "user")
