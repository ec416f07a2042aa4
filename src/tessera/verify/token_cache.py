"""A bounded LRU of verified tokens, so a warm container verifies a repeated token once.

Entries are keyed by the token itself. A lookup hashes the token (Python's own hash, kept on
the string once computed) and a hit compares the whole token, so the cache answers only for
the exact token that was verified: one that differs anywhere, its signature included, misses
and is verified in full. Entries expire no later than the token's ``exp``. The cache holds its
tokens in process memory until then (``cache_size=0`` turns it off).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["TokenCache"]

T = TypeVar("T")


class TokenCache(Generic[T]):
    """Maps verified tokens to their verification results until the tokens expire."""

    __slots__ = ("_entries", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str | bytes, tuple[float, T]] = OrderedDict()

    def get(self, token: str | bytes, now: float) -> T | None:
        """The cached result for ``token``, or None when absent or expired."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[0] <= now:
            self._entries.pop(token, None)
            return None
        try:
            self._entries.move_to_end(token)
        except KeyError:  # evicted by another thread meanwhile
            pass
        return entry[1]

    def put(self, token: str | bytes, value: T, expires_at: float) -> None:
        """Remember ``value`` until ``expires_at``, evicting the least recently used entry."""
        entries = self._entries
        entries[token] = (expires_at, value)
        while len(entries) > self.capacity:
            try:
                entries.popitem(last=False)
            except KeyError:
                break

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
