"""Users' phone numbers in the store: found by number, unique (its newest owner keeps it), moved, removed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tessera.store import Store, User
from tessera.store.sqlite import SQLiteStore


def test_a_user_is_found_by_phone_and_the_number_follows_updates(store: Store) -> None:
    carol = User("usr_carol", "carol@example.com", phone="+447400123456")
    store.put_user(carol)
    store.put_user(User("usr_dave", "dave@example.com"))
    assert store.find_user_by_phone("+447400123456") == carol
    assert store.find_user_by_phone("+447400123457") is None
    store.put_user(replace(carol, phone="+447400123457"))
    assert store.find_user_by_phone("+447400123456") is None
    found = store.find_user_by_phone("+447400123457")
    assert found is not None and found.user_id == "usr_carol"
    store.put_user(replace(carol, phone=None))
    assert store.find_user_by_phone("+447400123457") is None
    assert store.get_user("usr_carol") == replace(carol, phone=None)


def test_a_number_belongs_to_one_user_at_a_time(tmp_path: Path) -> None:
    """SQLite only: PostgreSQL and DynamoDB do not yet keep phone numbers unique (docs/idp.md)."""
    store = SQLiteStore(tmp_path / "store.db")
    store.put_user(User("usr_carol", "carol@example.com", phone="+447400123456"))
    store.put_user(User("usr_dave", "dave@example.com", phone="+447400123456"))
    found = store.find_user_by_phone("+447400123456")
    assert found is not None and found.user_id == "usr_dave"
    carol = store.get_user("usr_carol")
    assert carol is not None and carol.phone is None


def test_a_user_stored_before_phones_existed_reads_without_one(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    with store._transaction() as db:
        db.execute(
            "INSERT INTO users VALUES (?, ?, ?)",
            (
                "usr_old",
                "old@example.com",
                '{"user_id": "usr_old", "email": "old@example.com", "email_verified": true,'
                ' "name": "", "roles": [], "disabled": false}',
            ),
        )
    old = store.get_user("usr_old")
    assert old is not None and old.phone is None
