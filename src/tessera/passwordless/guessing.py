"""How many one-time-code guesses anyone gets, counted in the store's rate counters.

Three bounds, none of which refuses the mailbox's owner a fresh code (ASVS V2.2.1):

- per challenge: a fixed number of attempts (in :mod:`.email_code`);
- per account and source address: ``per_source`` failed guesses per clock hour, after which that
  address may neither start nor guess on sign-ins for that account until the hour ends;
- per account: ``short_failures`` failed guesses at six-digit codes per clock hour, after which
  six-digit guesses are refused and new codes are long, so guesses from any number of
  addresses gain nothing while the owner, who reads the mail, still signs in.

Failures are counted as attempts minus successes: the attempt is counted atomically before the
comparison, so concurrent guesses cannot overshoot a budget, and a success is recorded after it.
A resend throttle keyed on (account, source address) keeps one address from mail-bombing an
account without letting it block the owner's own requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..errors import TesseraError
from ..store import RateCounters

__all__ = ["GuessBudgets", "SignInThrottled", "account_key"]

HOUR_SECONDS = 3600


class SignInThrottled(TesseraError):
    """Too many codes requested, or too many failures from this source address; retry later."""

    code = "sign_in_throttled"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("too many sign-in attempts; try again later")
        self.retry_after_seconds = retry_after_seconds


def _hour(now: float) -> tuple[int, int]:
    """The clock hour's window (numbered in minutes, as housekeeping expects) and seconds to its end."""
    hour = int(now // HOUR_SECONDS)
    return hour * 60, int((hour + 1) * HOUR_SECONDS - now) + 1


def account_key(email: str) -> str:
    """A short, stable digest naming the account (an email or a phone number) in counter keys."""
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


class GuessBudgets:
    """The per-source, per-account and resend bounds of one provider."""

    def __init__(
        self,
        counters: RateCounters,
        *,
        per_source: int,
        short_failures: int,
        resend_seconds: int,
        clock: Callable[[], float],
    ) -> None:
        self._counters = counters
        self.per_source = per_source
        self.short_failures = short_failures
        self.resend_seconds = resend_seconds
        self._clock = clock

    def _failures(self, key: str, window: int) -> int:
        return self._counters.count_hits(f"{key}:tries", window) - self._counters.count_hits(
            f"{key}:wins", window
        )

    def _charge(self, key: str, budget: int) -> int | None:
        """Count one attempt; seconds to wait when that leaves more than ``budget`` failures."""
        window, retry_after = _hour(self._clock())
        tries = self._counters.add_hit(f"{key}:tries", window)
        wins = self._counters.count_hits(f"{key}:wins", window)
        return retry_after if tries - wins > budget else None

    def _win(self, key: str) -> None:
        window, _ = _hour(self._clock())
        self._counters.add_hit(f"{key}:wins", window)

    @staticmethod
    def _source_key(email: str, source: str) -> str:
        return f"otp-source:{source}:{account_key(email)}"

    @staticmethod
    def _short_key(email: str) -> str:
        return f"otp-short:{account_key(email)}"

    def source_blocked(self, email: str, source: str) -> int | None:
        """Seconds ``source`` must wait before it may start a sign-in for ``email``, or None."""
        window, retry_after = _hour(self._clock())
        spent = self._failures(self._source_key(email, source), window) >= self.per_source
        return retry_after if spent else None

    def charge_source(self, email: str, source: str) -> int | None:
        """Count a guess by ``source`` at ``email``'s codes; seconds to wait if over its budget."""
        return self._charge(self._source_key(email, source), self.per_source)

    def charge_short(self, email: str) -> bool:
        """Count a six-digit guess at ``email``'s codes; False once the account's budget is spent."""
        return self._charge(self._short_key(email), self.short_failures) is None

    def short_codes_spent(self, email: str) -> bool:
        """True when six-digit guesses at ``email`` are spent this hour: new codes must be long."""
        window, _ = _hour(self._clock())
        return self._failures(self._short_key(email), window) >= self.short_failures

    def succeeded(self, email: str, source: str, *, short: bool) -> None:
        """Record a correct guess, so it is not counted as a failure."""
        self._win(self._source_key(email, source))
        if short:
            self._win(self._short_key(email))

    def resend_wait(self, email: str, source: str) -> int | None:
        """Count a code request; seconds to wait if ``source`` already had one in this resend slot."""
        if self.resend_seconds <= 0:
            return None
        now = self._clock()
        slot = int(now // self.resend_seconds)
        key = f"otp-resend:{slot}:{source}:{account_key(email)}"
        if self._counters.add_hit(key, int(now // 60)) > 1:
            return int((slot + 1) * self.resend_seconds - now) + 1
        return None
