"""The store's mail queue (:class:`tessera.store.MailQueue`): one claimer per row, leases, purge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tessera.store import QueuedMail
from tessera.store.sqlite import SQLiteStore

from .conftest import NOW


def _mail(mail_id: str, due_at: float = NOW) -> QueuedMail:
    return QueuedMail(mail_id, b"sealed-" + mail_id.encode(), due_at, NOW + 600)


def test_fifty_parallel_claims_one_winner_per_row(store: SQLiteStore) -> None:
    for n in range(10):
        store.enqueue_mail(_mail(f"m{n}", NOW - 10 + n))
    with ThreadPoolExecutor(max_workers=16) as pool:
        claims = list(pool.map(lambda _: store.claim_mail(NOW, 120), range(50)))
    won = [c.mail_id for c in claims if c is not None]
    assert sorted(won) == [f"m{n}" for n in range(10)]
    assert all(c is None or (c.attempts == 1 and c.due_at == NOW + 120) for c in claims)


def test_a_claim_takes_the_oldest_due_row_and_leases_it(store: SQLiteStore) -> None:
    store.enqueue_mail(_mail("later", NOW + 30))
    store.enqueue_mail(_mail("first", NOW - 5))
    store.enqueue_mail(_mail("second", NOW))
    claimed = store.claim_mail(NOW, 120)
    assert claimed is not None and claimed.mail_id == "first" and claimed.sealed == b"sealed-first"
    second = store.claim_mail(NOW, 120)
    assert second is not None and second.mail_id == "second"
    assert store.claim_mail(NOW, 120) is None  # "later" is not due, the others are leased
    due = [store.claim_mail(NOW + 121, 120) for _ in range(4)]  # the leases ran out: senders died
    assert [(m.mail_id, m.attempts) for m in due if m is not None] == [
        ("later", 1),
        ("first", 2),
        ("second", 2),
    ]
    assert due[3] is None


def test_release_and_delete(store: SQLiteStore) -> None:
    store.enqueue_mail(_mail("m"))
    claimed = store.claim_mail(NOW, 120)
    assert claimed is not None
    store.release_mail("m", NOW + 4)
    assert store.claim_mail(NOW + 3, 120) is None
    retried = store.claim_mail(NOW + 4, 120)
    assert retried is not None and retried.attempts == 2
    store.delete_mail("m")
    assert store.claim_mail(NOW + 1000, 120) is None


def test_purge_keeps_queued_mail_for_a_day_past_expiry(store: SQLiteStore) -> None:
    store.enqueue_mail(_mail("m"))
    store.purge_expired(NOW + 600 + 3600)
    assert store.claim_mail(NOW + 600 + 3600, 120) is not None
    store.purge_expired(NOW + 600 + 86400)
    assert store.claim_mail(NOW + 600 + 86400 + 200, 120) is None
