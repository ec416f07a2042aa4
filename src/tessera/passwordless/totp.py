"""TOTP second factor (RFC 6238, 30-second steps, 6 digits, SHA-1) with pyotp; QR codes with segno.

Enrolment makes a 160-bit secret (PWL-24), sealed under the master key with the user id bound
in, and shows it once as an ``otpauth://`` URI and its QR code; the factor counts only once a
first code confirms it. Codes of the current step and one step either side are accepted, each
step once: the newest accepted step is stored by a conditional write and nothing at or before it
works again (PWL-21, PWL-22). Failures are counted per user in a 15-minute window and the
factor refuses every attempt past the limit (PWL-23). Ten recovery codes (50 bits each) are
shown once, stored only as HMACs under a pepper, and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import TesseraError
from ..keys.sealing import MasterKey, SealError
from ..store import Store, TotpFactor, User
from .email_code import normalise_code

if TYPE_CHECKING:
    import pyotp

__all__ = ["TotpEnrolment", "TotpPolicy", "TotpRejected", "TotpThrottled", "Totp", "normalise_recovery_code"]

SECRET_BASE32_CHARS = 32  # 160 bits, RFC 4226 §4 R6's recommendation
STEP_SECONDS = 30
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: they are misread
RECOVERY_HALF = 5


class TotpRejected(TesseraError):
    """The code is wrong, reused, or there is no confirmed factor. Deliberately unspecific."""

    code = "totp_rejected"


class TotpThrottled(TesseraError):
    """Too many wrong codes for this user lately; retry after ``retry_after_seconds``."""

    code = "totp_throttled"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("too many wrong codes; try again later")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class TotpPolicy:
    """How codes are checked: steps accepted behind and ahead of now, and the failure limit."""

    steps_behind: int = 1
    steps_ahead: int = 1
    failures_per_window: int = 5
    failure_window_seconds: int = 900
    recovery_codes: int = 10


@dataclass(frozen=True)
class TotpEnrolment:
    """What the user is shown once at enrolment: the secret, its ``otpauth://`` URI and QR code."""

    secret: str
    uri: str
    qr_svg: str

    def __repr__(self) -> str:
        return "TotpEnrolment(<secret hidden>)"


def normalise_recovery_code(value: str) -> str:
    """A recovery code as stored: lower case, without the dash or any whitespace."""
    return "".join(c for c in value.lower() if c not in "- \t\r\n")


class Totp:
    """Enrols, confirms and checks users' TOTP factors and recovery codes over a store."""

    def __init__(
        self,
        store: Store,
        master_key: MasterKey,
        *,
        issuer_name: str = "Tessera",
        policy: TotpPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._master_key = master_key
        self._pepper = master_key.derive("totp-recovery-pepper")
        self.issuer_name = issuer_name
        self.policy = policy or TotpPolicy()
        self._clock = clock

    @staticmethod
    def _context(user_id: str) -> str:
        return f"totp:{user_id}"

    def enrol(self, user: User) -> TotpEnrolment:
        """Start (or restart) enrolment: a new unconfirmed secret replaces any earlier factor.

        Replacing a confirmed factor weakens the account for a moment: the caller asks for a
        recent sign-in first (PWL-24).
        """
        import pyotp  # imported by the ceremonies, not on every cold start
        import segno

        secret = pyotp.random_base32(SECRET_BASE32_CHARS)
        sealed = self._master_key.seal(secret.encode(), self._context(user.user_id))
        self._store.put_totp(TotpFactor(user.user_id, sealed, False, -1, self._clock()))
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=self.issuer_name)
        qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="Scan with your authenticator app")
        return TotpEnrolment(secret, uri, qr_svg)

    def _secret(self, factor: TotpFactor) -> pyotp.TOTP:
        import pyotp

        try:
            return pyotp.TOTP(
                self._master_key.open(factor.sealed_secret, self._context(factor.user_id)).decode()
            )
        except SealError:
            raise TotpRejected("the factor does not open") from None

    def _check_throttle(self, user_id: str) -> tuple[str, int]:
        window = int(self._clock() // self.policy.failure_window_seconds)
        key = f"totp-failures:{user_id}"
        if self._store.count_hits(key, window) >= self.policy.failures_per_window:
            retry = int((window + 1) * self.policy.failure_window_seconds - self._clock()) + 1
            raise TotpThrottled(retry)
        return key, window

    def _matching_step(self, factor: TotpFactor, code: str) -> int | None:
        """The time step whose code ``code`` is, within the window; None if none."""
        normalised = normalise_code(code)
        totp = self._secret(factor)
        now_step = int(self._clock() // STEP_SECONDS)
        found = None
        for step in range(now_step - self.policy.steps_behind, now_step + self.policy.steps_ahead + 1):
            expected = totp.generate_otp(step)
            if hmac.compare_digest(expected.encode(), (normalised or "-").encode()):
                found = step
        return found

    def _failed(self, key: str, window: int) -> TotpRejected:
        self._store.add_hit(key, window)
        return TotpRejected("the code is not valid")

    def confirm(self, user_id: str, code: str) -> tuple[str, ...]:
        """Confirm a pending enrolment with its first code; the recovery codes, shown this once."""
        key, window = self._check_throttle(user_id)
        factor = self._store.get_totp(user_id)
        if factor is None or factor.confirmed:
            raise self._failed(key, window)
        step = self._matching_step(factor, code)
        codes = self._new_recovery_codes()
        if step is None or not self._store.confirm_totp(user_id, step, [self._mac(c) for c in codes]):
            raise self._failed(key, window)
        return codes

    def verify(self, user_id: str, code: str) -> None:
        """Accept ``code`` once for the user's confirmed factor, else raise TotpRejected/TotpThrottled."""
        key, window = self._check_throttle(user_id)
        factor = self._store.get_totp(user_id)
        if factor is None or not factor.confirmed:
            raise self._failed(key, window)
        step = self._matching_step(factor, code)
        if step is None or not self._store.use_totp_step(user_id, step):
            raise self._failed(key, window)

    def use_recovery_code(self, user_id: str, code: str) -> None:
        """Accept one unused recovery code once, else raise TotpRejected/TotpThrottled."""
        key, window = self._check_throttle(user_id)
        if not self._store.use_recovery_code(user_id, self._mac(normalise_recovery_code(code))):
            raise self._failed(key, window)

    def regenerate_recovery_codes(self, user_id: str) -> tuple[str, ...]:
        """Replace every recovery code of a confirmed factor; the new ones, shown this once."""
        factor = self._store.get_totp(user_id)
        if factor is None or not factor.confirmed:
            raise TotpRejected("no confirmed factor")
        codes = self._new_recovery_codes()
        self._store.replace_recovery_codes(user_id, [self._mac(c) for c in codes])
        return codes

    def enrolled(self, user_id: str) -> bool:
        """Whether the user has a confirmed factor (sign-in then asks for it)."""
        factor = self._store.get_totp(user_id)
        return factor is not None and factor.confirmed

    def _mac(self, recovery_code: str) -> str:
        return hmac.new(
            self._pepper, normalise_recovery_code(recovery_code).encode(), hashlib.sha256
        ).hexdigest()

    def _new_recovery_codes(self) -> tuple[str, ...]:
        def one() -> str:
            chars = [secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_HALF)]
            return "".join(chars[:RECOVERY_HALF]) + "-" + "".join(chars[RECOVERY_HALF:])

        return tuple(one() for _ in range(self.policy.recovery_codes))
