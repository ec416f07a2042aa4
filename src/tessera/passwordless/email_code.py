"""Email one-time codes: 6 digits (12 under attack), 10 minutes, HMAC under a pepper, 5 attempts.

A challenge is identified by an opaque random id that the browser keeps (a cookie), so a code
only works together with the challenge it was sent for (PWL-18). The store sees the code only
as ``HMAC-SHA256(pepper, challenge id || code)``: a six-digit space is too small for a plain
hash (PWL-19). Each attempt is counted by a conditional write before the comparison, so five
failures kill the challenge even under concurrent guessing (PWL-14), and a correct code is
consumed once (PWL-16). How many guesses a source address or the whole world gets is bounded
by :class:`~.guessing.GuessBudgets`; no count ever stops the mailbox's owner from getting a
fresh code (ASVS V2.2.1). The mail is queued, never sent here, and queued for unknown addresses
too, so the answer takes the same time whether the account exists or not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..errors import TesseraError
from ..issue.mail.delivery import MailMessage, MailRejected
from ..store import OneTimeCode, Store, secret_hash
from .guessing import GuessBudgets, SignInThrottled
from .magic_link import MagicLinks, link_challenge

__all__ = ["CodeRejected", "EmailCodes", "SignInThrottled", "normalise_code"]

CODE_DIGITS = 6
LONG_CODE_DIGITS = 12
_ASCII_DIGITS = frozenset("0123456789")
_ASCII_WHITESPACE = " \t\r\n\x0b\x0c"


class CodeRejected(TesseraError):
    """The code is wrong, expired, used, or its challenge is dead. Deliberately unspecific."""

    code = "code_rejected"


def normalise_code(value: str) -> str | None:
    """The code with ASCII whitespace stripped at both ends, or None unless 6 or 12 ASCII digits.

    No ``int()`` anywhere: it accepts full-width digits and ``"123_456"`` (PWL-20).
    """
    stripped = value.strip(_ASCII_WHITESPACE)
    if len(stripped) not in (CODE_DIGITS, LONG_CODE_DIGITS) or not set(stripped) <= _ASCII_DIGITS:
        return None
    return stripped


class CodePoster(Protocol):
    """Where code mails go: a queue (:class:`tessera.issue.mail.outgoing.Outgoing`), never a relay."""

    def post(self, message: MailMessage, *, expires_at: float, account_only: bool) -> None:
        """Queue ``message``; with ``account_only``, it is sent only to an enabled user's address."""
        ...


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
        outgoing: CodePoster,
        *,
        issuer_name: str = "Tessera",
        ttl_seconds: int = 600,
        max_attempts: int = 5,
        resend_interval_seconds: int = 30,
        failures_per_hour_per_source: int = 10,
        short_code_failures_per_hour: int = 20,
        clock: Callable[[], float] = time.time,
        signup: bool = False,
    ) -> None:
        self._store = store
        self.signup = signup
        self._pepper = pepper
        self._outgoing = outgoing
        self._issuer_name = issuer_name
        self.ttl_seconds = ttl_seconds
        self.max_attempts = max_attempts
        self.budgets = GuessBudgets(
            store,
            per_source=failures_per_hour_per_source,
            short_failures=short_code_failures_per_hour,
            resend_seconds=resend_interval_seconds,
            clock=clock,
        )
        self._clock = clock
        self.links = MagicLinks(store, pepper, self.budgets, max_attempts=max_attempts, clock=clock)

    def _mac(self, challenge_id: str, code: str) -> str:
        return hmac.new(self._pepper, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()

    def start(self, email: str, source: str, link_url: Callable[[str], str] | None = None) -> Challenge:
        """Begin a sign-in for ``email`` asked from the address ``source``: a new challenge and a mail.

        The mail is queued for every address and sent only if it has an enabled account (or to
        any address when ``signup`` lets anyone create one), so the work (and the time) here
        does not reveal which addresses exist. The code has 12 digits
        instead of 6 while the account's six-digit guesses are spent this hour. Raises
        :class:`SignInThrottled` when ``source`` has spent its failures on this account this
        hour, or asks again within ``resend_interval_seconds``; another source is unaffected.
        With ``link_url`` (a link token to the URL it goes in), the mail holds a magic link too.
        """
        address = email.strip().lower()
        self.check_throttles(address, source)
        challenge, code, expires_at = self.open_challenge(address)
        challenge_id = challenge.challenge_id
        link = None
        if link_url is not None:
            link = link_url(self.links.issue(challenge_id, address, expires_at))
        message = self._message(address, code, link)
        if message is not None:
            self._outgoing.post(message, expires_at=expires_at, account_only=not self.signup)
        return challenge

    def check_throttles(self, account: str, source: str) -> None:
        """Raise :class:`SignInThrottled` if ``source`` may not start a sign-in for ``account`` now.

        That is when it spent its failures on the account this hour, or asked within
        ``resend_interval_seconds``; this counts the request for the resend throttle.
        """
        wait = self.budgets.source_blocked(account, source) or self.budgets.resend_wait(account, source)
        if wait is not None:
            raise SignInThrottled(wait)

    def open_challenge(self, account: str) -> tuple[Challenge, str, float]:
        """A new challenge for ``account`` stored (its code only as a MAC): (challenge, code, expiry).

        The code has 12 digits instead of 6 while the account's six-digit guesses are spent.
        """
        now = self._clock()
        digits = LONG_CODE_DIGITS if self.budgets.short_codes_spent(account) else CODE_DIGITS
        challenge_id = secrets.token_urlsafe(32)
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        expires_at = now + self.ttl_seconds
        self._store.save_one_time_code(
            OneTimeCode(
                challenge_hash=secret_hash(challenge_id),
                email=account,
                code_mac=self._mac(challenge_id, code),
                created_at=now,
                expires_at=expires_at,
            )
        )
        return Challenge(challenge_id, account), code, expires_at

    def _message(self, address: str, code: str, link: str | None) -> MailMessage | None:
        """The code mail, or None for an address no mail can go to (and so no account uses)."""
        minutes = self.ttl_seconds // 60
        text = f"Your {self._issuer_name} sign-in code is {code}\n\n"
        if link is not None:
            text += f"Or open this link in the browser where you asked to sign in:\n{link}\n\n"
        text += (
            f"It expires in {minutes} minutes and works once.\n"
            "If you did not try to sign in, ignore this mail.\n"
        )
        try:
            return MailMessage(to=address, subject=f"Your {self._issuer_name} sign-in code", text=text)
        except MailRejected:
            return None

    def verify(self, challenge_id: str, code: str, source: str) -> str:
        """The email the challenge was for, if ``code`` is right; else raise :class:`CodeRejected`.

        Every call counts as one attempt on the challenge, right or wrong; the sixth is refused
        unread. A guess from ``source`` past its hourly failures on this account raises
        :class:`SignInThrottled`; a six-digit guess past the account's hourly budget is refused.
        """
        now = self._clock()
        normalised = normalise_code(code)
        challenge_hash = secret_hash(challenge_id)
        record = self._store.attempt_one_time_code(challenge_hash, self.max_attempts, now)
        if record is None:
            raise CodeRejected("the code is not valid")
        wait = self.budgets.charge_source(record.email, source)
        if wait is not None:
            raise SignInThrottled(wait)
        short = normalised is not None and len(normalised) == CODE_DIGITS
        if short and not self.budgets.charge_short(record.email):
            raise CodeRejected("the code is not valid")
        candidate = self._mac(challenge_id, normalised if normalised is not None else "-")
        if not hmac.compare_digest(candidate, record.code_mac):
            raise CodeRejected("the code is not valid")
        if not self._store.consume_one_time_code(challenge_hash, now):
            raise CodeRejected("the code is not valid")
        self._store.consume_one_time_code(link_challenge(challenge_id), now)
        self.budgets.succeeded(record.email, source, short=short)
        return record.email
