"""TOTP against PWL-21..PWL-24, and recovery codes, on SQLite with a frozen clock."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyotp
import pytest

from tessera.keys.sealing import MasterKey
from tessera.passwordless.totp import Totp, TotpPolicy, TotpRejected, TotpThrottled
from tessera.store import User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import FakeClock

ALICE = User("usr_alice", "alice@example.com")


class Rig:
    """A TOTP service over a store, a master key and a clock, with the user's "app"."""

    def __init__(self, path: Path) -> None:
        self.clock = FakeClock()
        self.path = path
        self.store = SQLiteStore(path)
        self.master = MasterKey.generate()
        self.totp = Totp(self.store, self.master, clock=self.clock)
        self.app: pyotp.TOTP | None = None

    def code(self, offset_steps: int = 0) -> str:
        assert self.app is not None
        return self.app.generate_otp(int(self.clock.now // 30) + offset_steps)

    def enrol_and_confirm(self) -> tuple[str, ...]:
        enrolment = self.totp.enrol(ALICE)
        self.app = pyotp.TOTP(enrolment.secret)
        return self.totp.confirm(ALICE.user_id, self.code())


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    built = Rig(tmp_path / "store.db")
    yield built
    built.store.close()


def test_enrolment_shows_a_160_bit_secret_once_and_counts_only_after_a_first_code(rig: Rig) -> None:
    enrolment = rig.totp.enrol(ALICE)
    assert len(base64.b32decode(enrolment.secret)) == 20  # 160 bits
    assert enrolment.uri.startswith("otpauth://totp/Tessera:alice%40example.com?secret=")
    assert "issuer=Tessera" in enrolment.uri
    assert enrolment.qr_svg.startswith("<svg")
    assert enrolment.secret not in repr(enrolment)
    assert not rig.totp.enrolled(ALICE.user_id)
    rig.app = pyotp.TOTP(enrolment.secret)
    with pytest.raises(TotpRejected):
        rig.totp.verify(ALICE.user_id, rig.code())  # not confirmed yet
    with pytest.raises(TotpRejected):
        rig.totp.confirm(ALICE.user_id, f"{(int(rig.code()) + 1) % 10**6:06d}")
    rig.clock.advance(30)
    codes = rig.totp.confirm(ALICE.user_id, rig.code())
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert rig.totp.enrolled(ALICE.user_id)
    with pytest.raises(TotpRejected):
        rig.totp.confirm(ALICE.user_id, rig.code(1))  # confirmed once only


def test_pwl24_the_secret_is_sealed_at_rest_and_bound_to_its_user(rig: Rig) -> None:
    rig.enrol_and_confirm()
    assert rig.app is not None
    raw = rig.path.read_bytes() + (rig.path.with_name(rig.path.name + "-wal").read_bytes())
    assert rig.app.secret.encode() not in raw
    other_key = Totp(rig.store, MasterKey.generate(), clock=rig.clock)
    rig.clock.advance(60)
    with pytest.raises(TotpRejected):
        other_key.verify(ALICE.user_id, rig.code())
    factor = rig.store.get_totp(ALICE.user_id)
    assert factor is not None
    db = sqlite3.connect(rig.path)
    db.execute("INSERT INTO totp_factors VALUES ('usr_mallory', ?, 1, 0, 0)", (factor.sealed_secret,))
    db.commit()
    db.close()
    with pytest.raises(TotpRejected):
        rig.totp.verify("usr_mallory", rig.code())  # a secret moved to another user does not open
    rig.totp.verify(ALICE.user_id, rig.code())


def test_pwl21_window_one_step_either_side(rig: Rig) -> None:
    rig.enrol_and_confirm()
    rig.clock.advance(300)
    for far in (-2, 2):
        with pytest.raises(TotpRejected):
            rig.totp.verify(ALICE.user_id, rig.code(far))
    rig.totp.verify(ALICE.user_id, rig.code(-1))
    rig.totp.verify(ALICE.user_id, rig.code(0))
    rig.totp.verify(ALICE.user_id, rig.code(1))


def test_pwl21_no_step_ahead_when_configured_so(tmp_path: Path) -> None:
    strict = Rig(tmp_path / "strict.db")
    strict.totp = Totp(strict.store, strict.master, policy=TotpPolicy(steps_ahead=0), clock=strict.clock)
    strict.enrol_and_confirm()
    strict.clock.advance(300)
    with pytest.raises(TotpRejected):
        strict.totp.verify(ALICE.user_id, strict.code(1))
    strict.totp.verify(ALICE.user_id, strict.code(0))
    strict.store.close()


def test_pwl22_a_code_works_once_and_never_after_a_newer_step(rig: Rig) -> None:
    rig.enrol_and_confirm()
    rig.clock.advance(300)
    code = rig.code()
    rig.totp.verify(ALICE.user_id, code)
    with pytest.raises(TotpRejected):
        rig.totp.verify(ALICE.user_id, code)
    with pytest.raises(TotpRejected):
        rig.totp.verify(ALICE.user_id, rig.code(-1))
    rig.clock.advance(30)
    rig.totp.verify(ALICE.user_id, rig.code())


def test_pwl22_parallel_uses_of_one_code_have_one_winner(rig: Rig) -> None:
    rig.enrol_and_confirm()
    rig.clock.advance(300)
    code = rig.code()

    def attempt(_: int) -> bool:
        try:
            rig.totp.verify(ALICE.user_id, code)
        except (TotpRejected, TotpThrottled):
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(20)))
    assert results.count(True) == 1


def test_pwl23_wrong_codes_lock_the_factor_for_the_window(rig: Rig) -> None:
    rig.enrol_and_confirm()
    rig.clock.advance(30 * 30)  # the start of a failure window
    right = rig.code()
    wrong = f"{(int(right) + 500_000) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(TotpRejected):
            rig.totp.verify(ALICE.user_id, wrong)
    with pytest.raises(TotpThrottled) as locked:
        rig.totp.verify(ALICE.user_id, right)
    assert 0 < locked.value.retry_after_seconds <= 901
    with pytest.raises(TotpThrottled):
        rig.totp.use_recovery_code(ALICE.user_id, "aaaaa-aaaaa")
    rig.clock.advance(locked.value.retry_after_seconds)
    rig.totp.verify(ALICE.user_id, rig.code())


def test_recovery_codes_work_once_each_in_any_case_and_are_stored_as_macs(rig: Rig) -> None:
    codes = rig.enrol_and_confirm()
    first, second = codes[0], codes[1]
    assert len(first) == 11
    assert first[5] == "-"
    rig.totp.use_recovery_code(ALICE.user_id, first)
    with pytest.raises(TotpRejected):
        rig.totp.use_recovery_code(ALICE.user_id, first)
    rig.totp.use_recovery_code(ALICE.user_id, " " + second.upper().replace("-", "") + "\n")
    with pytest.raises(TotpRejected):
        rig.totp.use_recovery_code(ALICE.user_id, "zzzzz-zzzzz")
    db = sqlite3.connect(rig.path)
    stored = {row[0] for row in db.execute("SELECT code_hash FROM totp_recovery_codes")}
    db.close()
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & stored
    assert not set(codes) & stored


def test_regenerated_recovery_codes_replace_the_old_ones(rig: Rig) -> None:
    old = rig.enrol_and_confirm()
    new = rig.totp.regenerate_recovery_codes(ALICE.user_id)
    assert not set(old) & set(new)
    with pytest.raises(TotpRejected):
        rig.totp.use_recovery_code(ALICE.user_id, old[2])
    rig.totp.use_recovery_code(ALICE.user_id, new[2])


def test_re_enrolment_replaces_the_factor_and_its_codes_and_removal_ends_it(rig: Rig) -> None:
    codes = rig.enrol_and_confirm()
    old_app = rig.app
    rig.clock.advance(60)
    rig.totp.enrol(ALICE)
    assert not rig.totp.enrolled(ALICE.user_id)
    assert old_app is not None
    with pytest.raises(TotpRejected):
        rig.totp.verify(ALICE.user_id, old_app.generate_otp(int(rig.clock.now // 30)))
    with pytest.raises(TotpRejected):
        rig.totp.use_recovery_code(ALICE.user_id, codes[0])
    rig.enrol_and_confirm()
    rig.store.remove_totp(ALICE.user_id)
    assert not rig.totp.enrolled(ALICE.user_id)
    with pytest.raises(TotpRejected):
        rig.totp.regenerate_recovery_codes(ALICE.user_id)


def test_pwl20_lookalikes_of_the_right_code_are_rejections(rig: Rig) -> None:
    rig.enrol_and_confirm()
    rig.clock.advance(300)
    right = rig.code()
    full_width = "".join(chr(0xFF10 + int(d)) for d in right)
    for typed in (full_width, right[:3] + "_" + right[3:], right[:5], "+" + right[1:]):
        with pytest.raises(TotpRejected):
            rig.totp.verify(ALICE.user_id, typed)
    rig.totp.verify(ALICE.user_id, " " + right + "\t")
