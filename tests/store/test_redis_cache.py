"""Redis beside the database: counters live in Redis only, revocations in both, the database authoritative."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.store import AccessTokenRecord, Grant
from tessera.store.redis_cache import RedisCachedStore
from tessera.store.url import open_store

from .conftest import NOW, fresh_store_url


@pytest.fixture(params=["sqlite", "postgresql", "dynamodb"])
def cached(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisCachedStore]:
    import redis

    url = fresh_store_url(str(request.param), request, tmp_path)
    cache_url: str = request.getfixturevalue("redis_url")
    redis.Redis.from_url(cache_url).flushdb()
    store = open_store(url, cache_url)
    assert isinstance(store, RedisCachedStore)
    yield store
    store.close()


def test_rate_counters_live_in_redis_not_in_the_database(cached: RedisCachedStore) -> None:
    assert [cached.add_hit("token:192.0.2.1", 5) for _ in range(3)] == [1, 2, 3]
    assert cached.count_hits("token:192.0.2.1", 5) == 3
    assert cached.primary.count_hits("token:192.0.2.1", 5) == 0


def test_revocations_reach_the_database_and_redis_answers_them(cached: RedisCachedStore) -> None:
    import redis

    cached.save_access_token(AccessTokenRecord("at-1", "spa", "g1", NOW + 900))
    cached.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    cached.revoke_access_token(AccessTokenRecord("cc-1", "svc", None, NOW + 900))
    cached.revoke_grant("g1")
    assert cached.get_access_token("cc-1") == AccessTokenRecord("cc-1", "svc", None, NOW + 900, True)
    assert cached.primary.get_access_token("cc-1") == AccessTokenRecord("cc-1", "svc", None, NOW + 900, True)
    primary_grant = cached.primary.get_grant("g1")
    assert primary_grant is not None and primary_grant.revoked
    listed = redis.Redis(connection_pool=cached._redis.connection_pool)
    assert listed.exists("tessera:revoked:at:cc-1") and listed.exists("tessera:revoked:grant:g1")
    live = cached.get_access_token("at-1")
    assert live is not None and live.revoked  # the grant's revocation reached its token
