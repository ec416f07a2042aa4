"""The SQLite passkey tables: single-use challenges, unique credential ids, the last passkey kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tessera.store import PasskeyChallenge, PasskeyCredential
from tessera.store.sqlite import SQLiteStore

from .conftest import NOW


def _credential(credential_id: str, user_id: str = "usr_a") -> PasskeyCredential:
    return PasskeyCredential(credential_id, user_id, b"cose", 0, ("internal",), False, False, "Key", NOW)


def test_sto02_fifty_parallel_challenge_consumes_one_winner(store: SQLiteStore) -> None:
    store.save_passkey_challenge(PasskeyChallenge("ch1", "sign_in", "b", None, NOW + 300))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: store.consume_passkey_challenge("ch1", NOW), range(50)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0] == PasskeyChallenge("ch1", "sign_in", "b", None, NOW + 300)


def test_sto09_an_expired_challenge_is_gone_and_purged(store: SQLiteStore) -> None:
    store.save_passkey_challenge(PasskeyChallenge("old", "sign_in", "b", None, NOW))
    store.save_passkey_challenge(PasskeyChallenge("new", "register", "b", "usr_a", NOW + 300))
    assert store.consume_passkey_challenge("old", NOW) is None
    store.save_passkey_challenge(PasskeyChallenge("old2", "sign_in", "b", None, NOW))
    assert store.purge_expired(NOW) >= 1
    assert store.consume_passkey_challenge("new", NOW) is not None


def test_a_credential_id_is_registered_once_across_users(store: SQLiteStore) -> None:
    assert store.add_passkey(_credential("c1", "usr_a"))
    assert not store.add_passkey(_credential("c1", "usr_b"))
    found = store.get_passkey("c1")
    assert found is not None
    assert found.user_id == "usr_a"
    assert found.transports == ("internal",)


def test_parallel_removals_never_remove_the_last_passkey_without_leave(store: SQLiteStore) -> None:
    for credential_id in ("c1", "c2"):
        store.add_passkey(_credential(credential_id))
    with ThreadPoolExecutor(max_workers=2) as pool:
        removed = list(
            pool.map(lambda c: store.remove_passkey("usr_a", c, allow_last=False), ["c1", "c2"] * 10)
        )
    assert removed.count(True) == 1
    assert len(store.list_passkeys("usr_a")) == 1
