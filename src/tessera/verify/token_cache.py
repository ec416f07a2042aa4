"""A bounded LRU of verified tokens, so a warm container verifies a repeated token once.

Entries are keyed by the SHA-256 of the token (the token itself is never kept) and expire no
later than the token's ``exp``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["TokenCache"]

T = TypeVar("T")
_sha256 = hashlib.sha256


class TokenCache(Generic[T]):
    """Maps token digests to verification results until the token expires."""

    __slots__ = ("_entries", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[float, T]] = OrderedDict()

    @staticmethod
    def digest(token: bytes) -> bytes:
        """The cache key for a token."""
        return _sha256(token).digest()

    def get(self, digest: bytes, now: float) -> T | None:
        """The cached result for ``digest``, or None when absent or expired."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= now:
            self._entries.pop(digest, None)
            return None
        try:
            self._entries.move_to_end(digest)
        except KeyError:  # evicted by another thread meanwhile
            pass
        return entry[1]

    def put(self, digest: bytes, value: T, expires_at: float) -> None:
        """Remember ``value`` until ``expires_at``, evicting the least recently used entry."""
        entries = self._entries
        entries[digest] = (expires_at, value)
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
