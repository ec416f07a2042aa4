"""The passkey store on every backend: single-use challenges, unique credential ids, the last passkey kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tessera.store import PasskeyChallenge, PasskeyCredential, Store

from .conftest import NOW, StoreOpener


def _credential(credential_id: str, user_id: str = "usr_a", created_at: float = NOW) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id, user_id, b"cose", 0, ("internal", "hybrid"), True, False, "Key", created_at
    )


def test_sto02_fifty_parallel_challenge_consumes_one_winner(store: Store, open_same: StoreOpener) -> None:
    store.save_passkey_challenge(PasskeyChallenge("ch1", "sign_in", "b", None, NOW + 300))
    other = open_same()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: (store, other)[i % 2].consume_passkey_challenge("ch1", NOW), range(50))
        )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0] == PasskeyChallenge("ch1", "sign_in", "b", None, NOW + 300)


def test_sto09_an_expired_challenge_is_gone_and_purged(store: Store, backend: str) -> None:
    store.save_passkey_challenge(PasskeyChallenge("old", "sign_in", "b", None, NOW))
    store.save_passkey_challenge(PasskeyChallenge("new", "register", "b", "usr_a", NOW + 300))
    assert store.consume_passkey_challenge("old", NOW) is None
    store.save_passkey_challenge(PasskeyChallenge("old2", "sign_in", "b", None, NOW))
    purged = store.purge_expired(NOW)
    # DynamoDB leaves expired items to the table's TTL and checks expiry on every read instead.
    assert purged >= 1 if backend != "dynamodb" else purged == 0
    assert store.consume_passkey_challenge("old2", NOW) is None
    assert store.consume_passkey_challenge("new", NOW) == PasskeyChallenge(
        "new", "register", "b", "usr_a", NOW + 300
    )
    assert store.consume_passkey_challenge("new", NOW) is None


def test_a_credential_id_is_registered_once_across_users(store: Store) -> None:
    assert store.add_passkey(_credential("c1", "usr_a"))
    assert not store.add_passkey(_credential("c1", "usr_b"))
    assert not store.add_passkey(_credential("c1", "usr_a"))
    found = store.get_passkey("c1")
    assert found == _credential("c1", "usr_a")
    assert store.list_passkeys("usr_b") == ()
    assert store.get_passkey("c2") is None


def test_parallel_registrations_of_one_credential_id_have_one_winner(
    store: Store, open_same: StoreOpener
) -> None:
    other = open_same()
    with ThreadPoolExecutor(max_workers=8) as pool:
        added = list(
            pool.map(lambda i: (store, other)[i % 2].add_passkey(_credential("c1", f"usr_{i}")), range(16))
        )
    assert added.count(True) == 1
    owner = store.get_passkey("c1")
    assert owner is not None
    assert [c.credential_id for c in store.list_passkeys(owner.user_id)] == ["c1"]


def test_a_users_passkeys_are_listed_oldest_first_and_renamed_only_by_their_owner(store: Store) -> None:
    store.add_passkey(_credential("late", created_at=NOW + 10))
    store.add_passkey(_credential("early", created_at=NOW))
    store.add_passkey(_credential("theirs", "usr_b"))
    assert [c.credential_id for c in store.list_passkeys("usr_a")] == ["early", "late"]
    assert store.rename_passkey("usr_a", "late", "Laptop")
    assert not store.rename_passkey("usr_a", "theirs", "Mine now")
    assert not store.rename_passkey("usr_a", "absent", "X")
    late = store.get_passkey("late")
    theirs = store.get_passkey("theirs")
    assert late is not None and late.name == "Laptop"
    assert theirs is not None and theirs.name == "Key"


def test_a_use_is_recorded_only_against_the_expected_counter(store: Store, open_same: StoreOpener) -> None:
    store.add_passkey(_credential("c1"))
    other = open_same()
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = list(
            pool.map(
                lambda i: (store, other)[i % 2].record_passkey_use("c1", 0, 5 + i, True, NOW + i), range(16)
            )
        )
    assert stored.count(True) == 1
    winner = stored.index(True)
    found = store.get_passkey("c1")
    assert found is not None
    assert (found.sign_count, found.backed_up, found.last_used_at) == (5 + winner, True, NOW + winner)
    assert not store.record_passkey_use("c1", 0, 99, False, NOW)
    assert store.record_passkey_use("c1", 5 + winner, 99, False, NOW + 50)
    assert not store.record_passkey_use("absent", 0, 1, False, NOW)


def test_parallel_removals_never_remove_the_last_passkey_without_leave(
    store: Store, open_same: StoreOpener
) -> None:
    users = [f"usr_{i}" for i in range(12)]
    for user_id in users:
        for credential_id in ("c1", "c2"):
            store.add_passkey(_credential(f"{user_id}-{credential_id}", user_id))
    clients = (store, open_same())
    barriers = {user_id: threading.Barrier(2) for user_id in users}

    def remove(job: tuple[str, str, int]) -> bool:
        user_id, credential_id, side = job
        barriers[user_id].wait(timeout=30)
        return clients[side].remove_passkey(user_id, f"{user_id}-{credential_id}", allow_last=False)

    jobs = [(u, c, side) for u in users for side, c in enumerate(("c1", "c2"))]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        removed = list(pool.map(remove, jobs))
    assert removed.count(True) == len(users)
    assert all(len(store.list_passkeys(u)) == 1 for u in users)


def test_removal_is_the_owners_and_the_last_goes_only_when_allowed(store: Store) -> None:
    store.add_passkey(_credential("c1"))
    store.add_passkey(_credential("c2"))
    store.add_passkey(_credential("b1", "usr_b"))
    assert not store.remove_passkey("usr_a", "b1", allow_last=True)
    assert store.get_passkey("b1") is not None
    assert store.remove_passkey("usr_a", "c1", allow_last=False)
    assert not store.remove_passkey("usr_a", "c1", allow_last=True)
    assert not store.remove_passkey("usr_a", "c2", allow_last=False)
    assert store.remove_passkey("usr_a", "c2", allow_last=True)
    assert store.list_passkeys("usr_a") == ()
    assert store.get_passkey("c2") is None
    assert store.add_passkey(_credential("c2", "usr_b"))
    assert [c.credential_id for c in store.list_passkeys("usr_b")] == ["b1", "c2"]
