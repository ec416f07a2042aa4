"""Redis beside the database (optional): rate-limit counters and the revocation list.

:class:`RedisCachedStore` wraps any primary store. Rate counters live only in Redis (an atomic
``INCR`` with an expiry in one ``MULTI``), so the hottest write leaves the database. Revocations
are written to the primary store first, which stays authoritative, then to Redis, which answers
"revoked" for a token or grant without a database read on every instance at once. Everything
else goes to the primary store unchanged.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from .base import Store
from .records import AccessTokenRecord, Grant

if TYPE_CHECKING:
    import redis

__all__ = ["RedisCachedStore"]

_RATE_TTL_SECONDS = 2 * 3600  # a counter outlives its one-minute window by far, then goes


class RedisCachedStore:
    """A :class:`~tessera.store.Store`: ``primary`` for everything, Redis at ``url`` for the hot part."""

    def __init__(self, primary: Store, url: str, *, prefix: str = "tessera:") -> None:
        import redis

        self.primary = primary
        self._prefix = prefix
        self._redis: redis.Redis = redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.primary, name)

    def __repr__(self) -> str:
        return f"RedisCachedStore({self.primary!r})"

    # rate limits
    def count_hits(self, key: str, window: int) -> int:
        """How many hits ``key`` has in ``window``."""
        value = self._redis.get(f"{self._prefix}rate:{window}:{key}")
        return int(value) if value is not None else 0

    def add_hit(self, key: str, window: int) -> int:
        """Count one hit: ``INCR`` and ``EXPIRE`` in one transaction; the new count."""
        name = f"{self._prefix}rate:{window}:{key}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, _RATE_TTL_SECONDS)
        count, _ = pipe.execute()
        return int(count)

    # the revocation list
    def revoke_access_token(self, record: AccessTokenRecord) -> None:
        """Revoke in the primary store, then list the ``jti`` in Redis until the token expires."""
        self.primary.revoke_access_token(record)
        self._list(f"at:{record.jti}", json.dumps(record.__dict__ | {"revoked": True}), record.expires_at)

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """Redis's revoked record if listed there, else the primary store's."""
        listed = self._redis.get(f"{self._prefix}revoked:at:{jti}")
        if listed is not None:
            return AccessTokenRecord(**json.loads(listed))
        return self.primary.get_access_token(jti)

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke in the primary store, then list the grant in Redis."""
        self.primary.revoke_grant(grant_id)
        grant = self.primary.get_grant(grant_id)
        self._list(f"grant:{grant_id}", "1", grant.expires_at if grant else time.time() + 86400)

    def get_grant(self, grant_id: str) -> Grant | None:
        """The primary store's grant, marked revoked when Redis lists it."""
        grant = self.primary.get_grant(grant_id)
        if grant is None or grant.revoked:
            return grant
        if self._redis.exists(f"{self._prefix}revoked:grant:{grant_id}"):
            from dataclasses import replace

            return replace(grant, revoked=True)
        return grant

    def _list(self, name: str, value: str, until: float) -> None:
        expire_at = int(until) + 1
        if expire_at > time.time():
            self._redis.set(f"{self._prefix}revoked:{name}", value, exat=expire_at)

    def close(self) -> None:
        """Close the primary store and the Redis connections."""
        close = getattr(self.primary, "close", None)
        if close is not None:
            close()
        self._redis.close()
