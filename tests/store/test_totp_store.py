"""The TOTP store on every backend: each step and each recovery code used once, atomic confirmation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tessera.store import Store, TotpFactor

from .conftest import NOW, StoreOpener

CODES = tuple(f"mac{i}" for i in range(10))


def _enrolled(store: Store, user_id: str = "usr_a", last_step: int = 100) -> None:
    store.put_totp(TotpFactor(user_id, b"sealed-secret", False, last_step, NOW))


def test_a_factor_counts_only_once_confirmed_and_confirms_once(store: Store, open_same: StoreOpener) -> None:
    _enrolled(store)
    assert store.get_totp("usr_a") == TotpFactor("usr_a", b"sealed-secret", False, 100, NOW)
    assert not store.use_totp_step("usr_a", 101)
    assert not store.use_recovery_code("usr_a", "mac0")
    store.replace_recovery_codes("usr_a", ("early",))
    assert not store.use_recovery_code("usr_a", "early")  # stored, but the factor is unconfirmed
    assert not store.confirm_totp("usr_a", 100, CODES)
    other = open_same()
    with ThreadPoolExecutor(max_workers=8) as pool:
        confirmed = list(
            pool.map(lambda i: (store, other)[i % 2].confirm_totp("usr_a", 101, CODES), range(8))
        )
    assert confirmed.count(True) == 1
    assert store.get_totp("usr_a") == TotpFactor("usr_a", b"sealed-secret", True, 101, NOW)
    assert not store.use_totp_step("usr_a", 101)
    assert store.use_totp_step("usr_a", 102)
    assert store.get_totp("nobody") is None


def test_pwl22_parallel_uses_of_one_step_have_one_winner(store: Store, open_same: StoreOpener) -> None:
    _enrolled(store)
    assert store.confirm_totp("usr_a", 101, CODES)
    other = open_same()
    with ThreadPoolExecutor(max_workers=8) as pool:
        used = list(pool.map(lambda i: (store, other)[i % 2].use_totp_step("usr_a", 110), range(20)))
    assert used.count(True) == 1
    assert not store.use_totp_step("usr_a", 109)
    factor = store.get_totp("usr_a")
    assert factor is not None and factor.last_step == 110


def test_parallel_uses_of_one_recovery_code_have_one_winner(store: Store, open_same: StoreOpener) -> None:
    _enrolled(store)
    store.confirm_totp("usr_a", 101, CODES)
    other = open_same()
    with ThreadPoolExecutor(max_workers=8) as pool:
        used = list(pool.map(lambda i: (store, other)[i % 2].use_recovery_code("usr_a", "mac3"), range(20)))
    assert used.count(True) == 1
    assert store.use_recovery_code("usr_a", "mac4")
    assert not store.use_recovery_code("usr_a", "unknown")
    assert not store.use_recovery_code("usr_b", "mac5")


def test_replaced_codes_and_a_replaced_factor_drop_the_old_codes(store: Store) -> None:
    _enrolled(store)
    store.confirm_totp("usr_a", 101, CODES)
    store.use_recovery_code("usr_a", "mac0")
    store.replace_recovery_codes("usr_a", ("mac0", "new1", "new2"))
    assert not store.use_recovery_code("usr_a", "mac1")
    assert store.use_recovery_code("usr_a", "mac0")
    assert store.use_recovery_code("usr_a", "new1")
    _enrolled(store, last_step=200)
    assert store.get_totp("usr_a") == TotpFactor("usr_a", b"sealed-secret", False, 200, NOW)
    assert store.confirm_totp("usr_a", 201, ())
    assert not store.use_recovery_code("usr_a", "new2")


def test_removal_ends_the_factor_and_its_codes_and_no_other(store: Store) -> None:
    _enrolled(store)
    store.confirm_totp("usr_a", 101, CODES)
    _enrolled(store, "usr_b")
    store.confirm_totp("usr_b", 101, CODES)
    store.remove_totp("usr_a")
    assert store.get_totp("usr_a") is None
    assert not store.use_recovery_code("usr_a", "mac1")
    assert not store.use_totp_step("usr_a", 500)
    assert store.use_recovery_code("usr_b", "mac1")
    store.remove_totp("usr_a")
