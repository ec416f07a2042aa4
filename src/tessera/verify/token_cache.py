"""A bounded LRU of verified tokens, so a warm container verifies a repeated token once.

Entries are keyed by the SHA-256 of the token (the token itself is never kept) and expire no
later than the token's ``exp``.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["TokenCache", "sha256_function"]

T = TypeVar("T")


def sha256_function() -> Callable[[bytes], bytes]:
    """OpenSSL's SHA-256: from ``cryptography`` when it is loaded (any asymmetric key loads it),
    else from ``hashlib`` (which a shared secret's ``hmac`` loads).

    Importing ``hashlib`` only for the cache would cost a cold start several milliseconds.
    """
    if "cryptography.hazmat.primitives.hashes" in sys.modules:
        from cryptography.hazmat.primitives import hashes

        blank = hashes.Hash(hashes.SHA256())

        def cryptography_digest(data: bytes) -> bytes:
            context = blank.copy()
            context.update(data)
            return context.finalize()

        return cryptography_digest
    import hashlib

    sha256 = hashlib.sha256

    def hashlib_digest(data: bytes) -> bytes:
        return sha256(data).digest()

    return hashlib_digest


class TokenCache(Generic[T]):
    """Maps token digests to verification results until the token expires."""

    __slots__ = ("_entries", "capacity", "digest")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[float, T]] = OrderedDict()
        self.digest = sha256_function()
        """The cache key for a token: ``digest(token_bytes)``."""

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
