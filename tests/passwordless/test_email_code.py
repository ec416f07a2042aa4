"""Email one-time codes against PWL-14..PWL-20, on a real SQLite store with a frozen clock."""

from __future__ import annotations

import io
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tessera.issue.mail.delivery import DevOutbox
from tessera.issue.mail.outgoing import Outgoing
from tessera.keys.sealing import MasterKey
from tessera.passwordless import CodeRejected, EmailCodes, SignInThrottled
from tessera.passwordless.email_code import normalise_code
from tessera.store import User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import FakeClock

PEPPER = b"p" * 32
HERE = "192.0.2.1"


class Rig:
    """Codes over a store, an outbox and a clock."""

    def __init__(self, path: Path) -> None:
        self.clock = FakeClock()
        self.store = SQLiteStore(path)
        self.outbox = DevOutbox(stream=io.StringIO(), clock=self.clock)
        self.outgoing = Outgoing(
            self.store, MasterKey.generate(), self.outbox, clock=self.clock, autostart=False
        )
        self.codes = EmailCodes(self.store, PEPPER, self.outgoing, clock=self.clock)
        self.store.put_user(User("usr_x", "x@example.com"))
        self.store.put_user(User("usr_y", "y@example.com"))

    def start(self, email: str = "x@example.com", source: str = HERE) -> tuple[str, str]:
        """A new challenge and the code mailed for it."""
        self.clock.advance(31)
        challenge = self.codes.start(email, source)
        assert self.outgoing.drain() == 1
        match = re.search(r"code is ([0-9]{12}|[0-9]{6})\n", str(self.outbox.messages()[0]["text"]))
        assert match is not None
        return challenge.challenge_id, match.group(1)

    def verify(self, challenge: str, code: str, source: str = HERE) -> str:
        """The email the code signs in, or CodeRejected / SignInThrottled."""
        return self.codes.verify(challenge, code, source)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    setup = Rig(tmp_path / "codes.db")
    yield setup
    setup.outgoing.stop()
    setup.store.close()


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_genuine_code_signs_in(rig: Rig) -> None:
    challenge, code = rig.start()
    assert rig.verify(challenge, code) == "x@example.com"


def test_pwl14_five_failures_kill_the_challenge(rig: Rig) -> None:
    challenge, code = rig.start()
    for _ in range(5):
        with pytest.raises(CodeRejected):
            rig.verify(challenge, _other(code))
    with pytest.raises(CodeRejected):
        rig.verify(challenge, code)
    fresh, fresh_code = rig.start()
    assert rig.verify(fresh, fresh_code) == "x@example.com"


def test_pwl14_concurrent_guesses_cannot_exceed_five_attempts(rig: Rig) -> None:
    challenge, code = rig.start()
    guesses = [_other(code)] * 20 + [code]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda g: _try(rig, challenge, g), guesses[:20]))
    assert outcomes.count(True) == 0
    with pytest.raises(CodeRejected):
        rig.verify(challenge, code)
    with sqlite3.connect(rig.store.path) as db:
        assert db.execute("SELECT attempts FROM one_time_codes").fetchone()[0] == 5


def _try(rig: Rig, challenge: str, guess: str) -> bool:
    try:
        rig.verify(challenge, guess)
    except CodeRejected:
        return False
    return True


def test_pwl15_failures_throttle_the_source_address_not_the_account(rig: Rig) -> None:
    for _ in range(2):
        challenge, code = rig.start()
        for _ in range(5):
            assert not _try(rig, challenge, _other(code))
    with pytest.raises(SignInThrottled) as throttled:
        rig.start()
    assert 0 < throttled.value.retry_after_seconds <= 3601
    owner, owner_code = rig.start(source="198.51.100.7")
    assert rig.verify(owner, owner_code, "198.51.100.7") == "x@example.com"
    rig.clock.advance(3601)
    challenge, code = rig.start()
    assert rig.verify(challenge, code) == "x@example.com"


def test_pwl15_resend_is_throttled_per_source_address(rig: Rig) -> None:
    rig.start()
    with pytest.raises(SignInThrottled):
        rig.codes.start("x@example.com", HERE)
    assert rig.codes.start("x@example.com", "198.51.100.7").challenge_id
    rig.clock.advance(30)
    assert rig.codes.start("x@example.com", HERE).challenge_id


def test_pwl16_replay_of_a_used_code_fails(rig: Rig) -> None:
    challenge, code = rig.start()
    assert rig.verify(challenge, code)
    with pytest.raises(CodeRejected):
        rig.verify(challenge, code)


def test_pwl17_expiry(rig: Rig) -> None:
    challenge, code = rig.start()
    rig.clock.advance(601)
    with pytest.raises(CodeRejected):
        rig.verify(challenge, code)
    fresh, fresh_code = rig.start()
    rig.clock.advance(599)
    assert rig.verify(fresh, fresh_code)


def test_pwl18_code_bound_to_its_challenge(rig: Rig) -> None:
    challenge_x, code_x = rig.start("x@example.com")
    challenge_y, code_y = rig.start("y@example.com")
    if code_x != code_y:
        with pytest.raises(CodeRejected):
            rig.verify(challenge_y, code_x)
    with pytest.raises(CodeRejected):
        rig.verify("forged-challenge", code_x)
    assert rig.verify(challenge_x, code_x) == "x@example.com"


def test_pwl19_codes_uniform_and_stored_as_peppered_hmac(rig: Rig) -> None:
    import secrets

    digits = Counter(f"{secrets.randbelow(10**6):06d}"[0] for _ in range(20_000))
    assert set(digits) == set("0123456789")
    assert max(digits.values()) < 2 * min(digits.values())
    challenge, code = rig.start()
    with sqlite3.connect(rig.store.path) as db:
        dump = "\n".join(db.iterdump())
    assert code not in dump
    assert challenge not in dump
    import hashlib

    assert hashlib.sha256(code.encode()).hexdigest() not in dump


@pytest.mark.parametrize(
    "typed",
    [" 123456", "123 456", "\uff11\uff12\uff13\uff14\uff15\uff16", "123_456", "0123456", "+123456", "12345"],
)
def test_pwl20_input_normalisation(typed: str) -> None:
    expected = "123456" if typed.strip(" ") == "123456" else None
    assert normalise_code(typed) == expected
    assert normalise_code("123456\n") == "123456"
    assert normalise_code("000123") == "000123"


def test_unknown_address_gets_a_challenge_but_no_mail(rig: Rig) -> None:
    rig.clock.advance(31)
    before = len(rig.outbox.messages())
    challenge = rig.codes.start("nobody@example.com", HERE)
    assert challenge.challenge_id
    assert rig.outgoing.drain() == 1
    assert len(rig.outbox.messages()) == before


def test_pwl15_sign_in_requests_limited_per_address(tmp_path: Path) -> None:
    from tessera.testing.idp import ProviderHarness

    idp = ProviderHarness(tmp_path, sign_in_requests_per_minute_per_address=3)
    start = idp.authorize(idp.authorize_params())
    page = idp.browser.get(start.headers["location"])
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    statuses = []
    for i in range(4):
        idp.clock.advance(6)
        response = idp.browser.post("/signin", data={"csrf": csrf, "email": f"user{i}@example.com"})
        statuses.append(response.status_code)
    assert statuses == [303, 303, 303, 429]
    idp.clock.advance(60)
    assert idp.browser.post("/signin", data={"csrf": csrf, "email": "alice@example.com"}).status_code == 303
    idp.store.close()


def test_concurrent_wrong_codes_from_one_source_stop_at_its_budget(rig: Rig) -> None:
    challenges = [rig.start()[0] for _ in range(8)]

    def guess(challenge: str) -> str:
        try:
            rig.verify(challenge, "not a code")
        except CodeRejected:
            return "compared"
        except SignInThrottled:
            return "throttled"
        return "signed in"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(guess, challenges * 5))
    assert outcomes == {"compared": 10, "throttled": 30}
