"""Fixed-window rate limits kept in the store, so every instance (Lambda container) shares them.

AS-57: failed client authentications are limited per ``client_id``; token requests, sign-in
codes and authorization requests per source address. The source address is the connection's
peer, or behind ``trusted_proxies`` the client named by ``X-Forwarded-For``
(:mod:`tessera.issue.addresses`).
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.store import Store

__all__ = ["RateLimiter"]

WINDOW_SECONDS = 60


class RateLimiter:
    """Counts hits per key per minute; answers a ``Retry-After`` when a key is over its limit."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def _window(self) -> tuple[int, int]:
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        return window, int((window + 1) * WINDOW_SECONDS - now) + 1

    def over(self, key: str, limit: int) -> int | None:
        """Seconds to wait if ``key`` already reached ``limit`` this minute, else None (no count)."""
        window, retry_after = self._window()
        return retry_after if self._store.count_hits(key, window) >= limit else None

    def hit(self, key: str, limit: int) -> int | None:
        """Count one hit; seconds to wait if that went over ``limit``, else None."""
        window, retry_after = self._window()
        return retry_after if self._store.add_hit(key, window) > limit else None
