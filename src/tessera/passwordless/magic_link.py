"""Magic links: sent in the code mail, bound to the browser that asked, single-use, 10 minutes.

A link carries ``<seq>.<32 random bytes>`` (256 bits from :mod:`secrets`, PWL-06). The store
sees it only as ``HMAC-SHA256(pepper, "link:" || challenge id || token)``, in a one-time-code
row of its own keyed by the challenge id's hash, so the link works only together with the
challenge id in the cookie of the browser that asked (PWL-04): opened anywhere else there is
nothing to look it up with, and nobody is signed in there. Redeeming counts an attempt on that
row like a code guess and is charged to the same per-source budget; redeeming consumes the
code too, and a correct code consumes the link (the user uses either).

``seq`` is the link's number among the account's links of that minute, from an atomic store
counter: a link is superseded (PWL-03) when a later one was issued for the account, in the
same minute (a higher count) or any minute since. Only links are superseded; the codes of
earlier mails keep working, so someone asking for links to a victim's address cannot stop the
victim from signing in with the code their own mail holds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from ..errors import TesseraError
from ..store import OneTimeCode, Store, secret_hash
from .guessing import GuessBudgets, SignInThrottled, account_key

__all__ = ["LinkRejected", "MagicLinks", "link_challenge"]

WINDOW_SECONDS = 60
_MAX_TOKEN = 128


def link_challenge(challenge_id: str) -> str:
    """The hash under which the link of ``challenge_id`` is stored (beside the code's row)."""
    return secret_hash("link:" + challenge_id)


class LinkRejected(TesseraError):
    """The link is forged, used, expired, superseded, or not for this browser. Deliberately unspecific."""

    code = "link_rejected"


class MagicLinks:
    """Issues and redeems the magic links of emailed sign-ins."""

    def __init__(
        self,
        store: Store,
        pepper: bytes,
        budgets: GuessBudgets,
        *,
        max_attempts: int,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._pepper = pepper
        self._budgets = budgets
        self.max_attempts = max_attempts
        self._clock = clock

    def _mac(self, challenge_id: str, token: str) -> str:
        message = f"link:{challenge_id}:{token}".encode()
        return hmac.new(self._pepper, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _counter(address: str) -> str:
        return f"magic-link:{account_key(address)}"

    def issue(self, challenge_id: str, address: str, expires_at: float) -> str:
        """A new link token for the challenge; stores only its MAC. Supersedes the account's earlier links."""
        now = self._clock()
        seq = self._store.add_hit(self._counter(address), int(now // WINDOW_SECONDS))
        token = f"{seq}.{secrets.token_urlsafe(32)}"
        self._store.save_one_time_code(
            OneTimeCode(
                challenge_hash=link_challenge(challenge_id),
                email=address,
                code_mac=self._mac(challenge_id, token),
                created_at=now,
                expires_at=expires_at,
            )
        )
        return token

    def _superseded(self, address: str, created_at: float, seq: int, now: float) -> bool:
        first = int(created_at // WINDOW_SECONDS)
        last = int(now // WINDOW_SECONDS)
        key = self._counter(address)
        if self._store.count_hits(key, first) > seq:
            return True
        return any(self._store.count_hits(key, window) for window in range(first + 1, last + 1))

    def redeem(self, challenge_id: str, token: str, source: str) -> str:
        """The address the link was sent to, if ``token`` is the live link of ``challenge_id``.

        Raises :class:`LinkRejected` otherwise, or
        :class:`~.guessing.SignInThrottled` when ``source`` has spent its failures.
        """
        now = self._clock()
        record = self._store.attempt_one_time_code(link_challenge(challenge_id), self.max_attempts, now)
        if record is None:
            raise LinkRejected("the link is not valid")
        wait = self._budgets.charge_source(record.email, source)
        if wait is not None:
            raise SignInThrottled(wait)
        seq_text, dot, _ = token.partition(".")
        candidate = self._mac(challenge_id, token[:_MAX_TOKEN])
        if not hmac.compare_digest(candidate, record.code_mac) or not dot or not seq_text.isdecimal():
            raise LinkRejected("the link is not valid")
        if self._superseded(record.email, record.created_at, int(seq_text), now):
            raise LinkRejected("the link is not valid")
        if not self._store.consume_one_time_code(link_challenge(challenge_id), now):
            raise LinkRejected("the link is not valid")
        self._store.consume_one_time_code(secret_hash(challenge_id), now)
        self._budgets.succeeded(record.email, source, short=False)
        return record.email
