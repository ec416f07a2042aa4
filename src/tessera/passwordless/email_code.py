"""Email one-time codes: 6 digits, 10 minutes, HMAC under a pepper, 5 attempts, throttled resends.

A challenge is identified by an opaque random id that the browser keeps (a cookie), so a code
only works together with the challenge it was sent for (PWL-18). The store sees the code only
as ``HMAC-SHA256(pepper, challenge id || code)``: a six-digit space is too small for a plain
hash (PWL-19). Each attempt is counted by a conditional write before the comparison, so five
failures kill the challenge even under concurrent guessing (PWL-14), and a correct code is
consumed once (PWL-16).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import TesseraError
from ..issue.mail import Mailer, MailError, MailMessage
from ..store import OneTimeCode, Store, secret_hash

__all__ = ["CodeRejected", "EmailCodes", "SignInThrottled", "normalise_code"]

CODE_DIGITS = 6
_ASCII_DIGITS = frozenset("0123456789")
_ASCII_WHITESPACE = " \t\r\n\x0b\x0c"


class CodeRejected(TesseraError):
    """The code is wrong, expired, used, or its challenge is dead. Deliberately unspecific."""

    code = "code_rejected"


class SignInThrottled(TesseraError):
    """Too many codes requested or too many failures for this address; retry later."""

    code = "sign_in_throttled"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("too many sign-in attempts; try again later")
        self.retry_after_seconds = retry_after_seconds


def normalise_code(value: str) -> str | None:
    """The code with ASCII whitespace stripped at both ends, or None unless exactly 6 ASCII digits.

    No ``int()`` anywhere: it accepts full-width digits and ``"123_456"`` (PWL-20).
    """
    stripped = value.strip(_ASCII_WHITESPACE)
    if len(stripped) != CODE_DIGITS or not set(stripped) <= _ASCII_DIGITS:
        return None
    return stripped


@dataclass(frozen=True)
class Challenge:
    """A started sign-in: ``challenge_id`` goes to the browser; nothing else leaves the server."""

    challenge_id: str
    email: str


class EmailCodes:
    """Issues and checks emailed one-time codes."""

    def __init__(
        self,
        store: Store,
        pepper: bytes,
        mailer: Mailer,
        *,
        issuer_name: str = "Tessera",
        ttl_seconds: int = 600,
        max_attempts: int = 5,
        resend_interval_seconds: int = 30,
        failures_per_hour: int = 20,
        clock: Callable[[], float] = time.time,
        signup: bool = False,
    ) -> None:
        self._store = store
        self.signup = signup
        self._pepper = pepper
        self._mailer = mailer
        self._issuer_name = issuer_name
        self.ttl_seconds = ttl_seconds
        self.max_attempts = max_attempts
        self.resend_interval_seconds = resend_interval_seconds
        self.failures_per_hour = failures_per_hour
        self._clock = clock

    def _mac(self, challenge_id: str, code: str) -> str:
        return hmac.new(self._pepper, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()

    def start(self, email: str) -> Challenge:
        """Begin a sign-in for ``email``: a new challenge, and a mail if the address has an account.

        Unknown addresses get a challenge too (no mail is sent unless ``signup`` lets anyone
        create an account), so the answer does not reveal which addresses exist. Raises
        :class:`SignInThrottled` when codes are requested faster than
        ``resend_interval_seconds`` or after too many recent failures.
        """
        now = self._clock()
        address = email.strip().lower()
        self._check_throttle(address, now)
        challenge_id = secrets.token_urlsafe(32)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        self._store.save_one_time_code(
            OneTimeCode(
                challenge_hash=secret_hash(challenge_id),
                email=address,
                code_mac=self._mac(challenge_id, code),
                created_at=now,
                expires_at=now + self.ttl_seconds,
            )
        )
        user = self._store.find_user_by_email(address)
        if user is not None and not user.disabled:
            self._send(user.email, code)
        elif user is None and self.signup:
            self._send(address, code)
        return Challenge(challenge_id, address)

    def _check_throttle(self, address: str, now: float) -> None:
        last = self._store.last_one_time_code_at(address)
        if last is not None and now - last < self.resend_interval_seconds:
            raise SignInThrottled(int(self.resend_interval_seconds - (now - last)) + 1)
        if self._store.count_one_time_code_failures(address, now - 3600) >= self.failures_per_hour:
            raise SignInThrottled(3600)

    def _send(self, to: str, code: str) -> None:
        minutes = self.ttl_seconds // 60
        text = (
            f"Your {self._issuer_name} sign-in code is {code}\n\n"
            f"It expires in {minutes} minutes and works once.\n"
            "If you did not try to sign in, ignore this mail.\n"
        )
        try:
            self._mailer.send(MailMessage(to=to, subject=f"Your {self._issuer_name} sign-in code", text=text))
        except MailError:
            import logging

            logging.getLogger("tessera.passwordless").warning("could not send a sign-in code mail")

    def verify(self, challenge_id: str, code: str) -> str:
        """The email the challenge was for, if ``code`` is right; else raise :class:`CodeRejected`.

        Every call counts as one attempt, right or wrong; the sixth is refused unread.
        """
        now = self._clock()
        normalised = normalise_code(code)
        challenge_hash = secret_hash(challenge_id)
        record = self._store.attempt_one_time_code(challenge_hash, self.max_attempts, now)
        if record is None:
            raise CodeRejected("the code is not valid")
        candidate = self._mac(challenge_id, normalised if normalised is not None else "-")
        if not hmac.compare_digest(candidate, record.code_mac):
            raise CodeRejected("the code is not valid")
        if not self._store.consume_one_time_code(challenge_hash, now):
            raise CodeRejected("the code is not valid")
        return record.email
