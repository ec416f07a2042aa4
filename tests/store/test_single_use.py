"""Single use under concurrency, on every backend (STO-02, STO-09).

Fifty callers, each on a client of its own (its own connection, as fifty function instances
would be), race for one artefact: exactly one wins, no update is lost, and nothing expired is
ever accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tessera.store import AuthorizationCode, Grant, OneTimeCode, RefreshState, RefreshToken, Session, Store

from .conftest import NOW, StoreOpener

T = TypeVar("T")
RACERS = 50


def code(code_hash: str = "c1", expires_at: float = NOW + 60) -> AuthorizationCode:
    """An authorization code of grant ``g1``."""
    return AuthorizationCode(
        code_hash, "spa", None, None, "usr_a", "openid", None, int(NOW), "g1", None, expires_at
    )


def refresh(token_hash: str, expires_at: float = NOW + 3600) -> RefreshToken:
    """A refresh token of grant ``g1``."""
    return RefreshToken(token_hash, "g1", "spa", NOW, expires_at)


def race(open_same: StoreOpener, attempt: Callable[[Store, int], T], racers: int = RACERS) -> list[T]:
    """``attempt(client, i)`` by ``racers`` threads at once, each with a client of its own."""
    clients = [open_same() for _ in range(racers)]
    with ThreadPoolExecutor(max_workers=racers) as pool:
        return list(pool.map(lambda i: attempt(clients[i], i), range(racers)))


def test_sto02_fifty_concurrent_code_redemptions_one_winner(store: Store, open_same: StoreOpener) -> None:
    store.save_code(code())
    results = race(open_same, lambda client, _: client.consume_code("c1", NOW))
    assert results.count(True) == 1
    consumed = store.get_code("c1", NOW)
    assert consumed is not None and consumed.consumed
    store.save_code(code("c2"))
    assert store.consume_code("c2", NOW)
    assert not store.consume_code("c2", NOW)


def test_sto02_fifty_concurrent_rotations_one_successor(store: Store, open_same: StoreOpener) -> None:
    store.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    store.save_refresh(refresh("r1"))
    results = race(open_same, lambda client, i: client.rotate_refresh("r1", refresh(f"r1-next-{i}"), NOW + 1))
    winners = [i for i, r in enumerate(results) if r.rotated]
    assert len(winners) == 1
    for result in results:
        assert result.previous is not None
        assert result.previous.state is RefreshState.ROTATED
        assert result.previous.rotated_at == NOW + 1
    successors = [store.get_refresh(f"r1-next-{i}") for i in range(RACERS)]
    assert [i for i, s in enumerate(successors) if s is not None] == winners
    successor = successors[winners[0]]
    assert successor is not None and successor.state is RefreshState.ACTIVE
    assert store.rotate_refresh(f"r1-next-{winners[0]}", refresh("r3"), NOW + 2).rotated


def test_sto02_fifty_concurrent_one_time_code_consumptions_one_winner(
    store: Store, open_same: StoreOpener
) -> None:
    store.save_one_time_code(OneTimeCode("o1", "a@example.com", "mac", NOW, NOW + 600))
    results = race(open_same, lambda client, _: client.consume_one_time_code("o1", NOW))
    assert results.count(True) == 1


def test_attempt_counter_loses_no_update_and_stops_at_the_limit(store: Store, open_same: StoreOpener) -> None:
    store.save_one_time_code(OneTimeCode("o1", "a@example.com", "mac", NOW, NOW + 600))
    results = race(open_same, lambda client, _: client.attempt_one_time_code("o1", 30, NOW))
    counted = sorted(r.attempts for r in results if r is not None)
    assert counted == list(range(1, 31))
    assert store.attempt_one_time_code("o1", 31, NOW) is not None
    assert store.attempt_one_time_code("o1", 31, NOW) is None


def test_sto02_fifty_concurrent_jti_uses_one_accepted(store: Store, open_same: StoreOpener) -> None:
    results = race(open_same, lambda client, _: client.remember_jti("client:a", "j1", NOW + 60, NOW))
    assert results.count(True) == 1
    assert store.remember_jti("client:b", "j1", NOW + 60, NOW)
    assert not store.remember_jti("client:a", "j1", NOW + 60, NOW + 59)
    assert store.remember_jti("client:a", "j1", NOW + 120, NOW + 61)


def test_sto09_expired_artefacts_are_never_accepted(store: Store) -> None:
    store.save_code(code(expires_at=NOW + 60))
    assert store.get_code("c1", NOW + 59) is not None
    assert store.get_code("c1", NOW + 60) is None
    assert not store.consume_code("c1", NOW + 60)
    assert store.consume_code("c1", NOW + 59)
    store.create_session(Session("s1", "usr_a", int(NOW), NOW + 10))
    assert store.get_session("s1", NOW + 9) is not None
    assert store.get_session("s1", NOW + 10) is None
    store.save_one_time_code(OneTimeCode("o1", "a@example.com", "mac", NOW, NOW + 600))
    assert store.attempt_one_time_code("o1", 5, NOW + 600) is None
    assert not store.consume_one_time_code("o1", NOW + 600)
    assert store.attempt_one_time_code("o1", 5, NOW + 599) is not None
    assert store.consume_one_time_code("o1", NOW + 599)
    store.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    store.save_refresh(refresh("r1", expires_at=NOW + 100))
    expired = store.rotate_refresh("r1", refresh("r2"), NOW + 100)
    assert not expired.rotated
    assert store.get_refresh("r2") is None
    assert store.rotate_refresh("r1", refresh("r2"), NOW + 99).rotated


def test_expired_artefacts_are_refused_on_every_client_at_once(store: Store, open_same: StoreOpener) -> None:
    store.save_code(code(expires_at=NOW + 60))
    results = race(open_same, lambda client, _: client.consume_code("c1", NOW + 60), racers=10)
    assert results == [False] * 10
    assert store.consume_code("c1", NOW + 30)


def test_no_lost_rate_limit_hits(hot_store: Store) -> None:
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        counts = list(pool.map(lambda _: hot_store.add_hit("token:10.0.0.1", 7), range(RACERS * 4)))
    assert sorted(counts) == list(range(1, RACERS * 4 + 1))
    assert hot_store.count_hits("token:10.0.0.1", 7) == RACERS * 4
    assert hot_store.count_hits("token:10.0.0.1", 8) == 0
    assert hot_store.count_hits("token:10.0.0.2", 7) == 0


def test_no_lost_rate_limit_hits_across_clients(store: Store, open_same: StoreOpener) -> None:
    counts = race(open_same, lambda client, _: client.add_hit("client:svc", 3))
    assert sorted(counts) == list(range(1, RACERS + 1))
    assert store.count_hits("client:svc", 3) == RACERS
