"""Users' phone numbers on every backend: found by number, unique (a typed refusal, nothing written),
moved, freed; exactly one of concurrent claimants wins; migrations refuse users sharing a number."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tessera.store import PhoneNumberTaken, SharedPhoneNumbers, Store, User
from tessera.store.dynamodb import DynamoDBStore
from tessera.store.sqlite import SQLiteStore
from tessera.store.url import migrate_store, open_store

from .conftest import StoreOpener
from .test_single_use import race

CAROL_PHONE = "+447400123456"
OTHER_PHONE = "+447400123457"


def test_a_user_is_found_by_phone_and_the_number_follows_updates(store: Store) -> None:
    carol = User("usr_carol", "carol@example.com", phone=CAROL_PHONE)
    store.put_user(carol)
    store.put_user(User("usr_dave", "dave@example.com"))
    assert store.find_user_by_phone(CAROL_PHONE) == carol
    assert store.find_user_by_phone(OTHER_PHONE) is None
    store.put_user(replace(carol, phone=OTHER_PHONE))
    assert store.find_user_by_phone(CAROL_PHONE) is None
    found = store.find_user_by_phone(OTHER_PHONE)
    assert found is not None and found.user_id == "usr_carol"
    store.put_user(replace(carol, phone=None))
    assert store.find_user_by_phone(OTHER_PHONE) is None
    assert store.get_user("usr_carol") == replace(carol, phone=None)


def test_two_users_cannot_share_a_number_and_the_refusal_writes_nothing(store: Store) -> None:
    carol = User("usr_carol", "carol@example.com", phone=CAROL_PHONE)
    store.put_user(carol)
    with pytest.raises(PhoneNumberTaken) as refused:
        store.put_user(User("usr_dave", "dave@example.com", phone=CAROL_PHONE))
    assert refused.value.code == "phone_number_taken"
    assert CAROL_PHONE not in str(refused.value)
    assert store.get_user("usr_dave") is None and store.find_user_by_email("dave@example.com") is None
    dave = User("usr_dave", "dave@example.com", name="Dave")
    store.put_user(dave)
    with pytest.raises(PhoneNumberTaken):  # an update of an existing user: it stays as it was
        store.put_user(replace(dave, email="dave2@example.com", name="Changed", phone=CAROL_PHONE))
    assert store.get_user("usr_dave") == dave
    assert store.find_user_by_email("dave@example.com") == dave
    assert store.find_user_by_email("dave2@example.com") is None
    assert store.find_user_by_phone(CAROL_PHONE) == carol
    assert store.get_user("usr_carol") == carol


def test_a_number_freed_by_a_change_or_a_deletion_can_be_taken(store: Store) -> None:
    carol = User("usr_carol", "carol@example.com", phone=CAROL_PHONE)
    store.put_user(carol)
    store.put_user(replace(carol, phone=OTHER_PHONE))
    dave = User("usr_dave", "dave@example.com", phone=CAROL_PHONE)
    store.put_user(dave)
    assert store.find_user_by_phone(CAROL_PHONE) == dave
    assert store.delete_user("usr_carol")
    erin = User("usr_erin", "erin@example.com", phone=OTHER_PHONE)
    store.put_user(erin)
    assert store.find_user_by_phone(OTHER_PHONE) == erin


def test_the_user_displaced_by_an_email_leaves_its_number_to_its_successor(store: Store) -> None:
    store.put_user(User("usr_old", "shared@example.com", phone=CAROL_PHONE))
    successor = User("usr_new", "shared@example.com", phone=CAROL_PHONE)
    store.put_user(successor)
    assert store.get_user("usr_old") is None
    assert store.find_user_by_phone(CAROL_PHONE) == successor
    store.put_user(User("usr_next", "shared@example.com"))  # displaced again, number and all
    assert store.find_user_by_phone(CAROL_PHONE) is None
    frank = User("usr_frank", "frank@example.com", phone=CAROL_PHONE)
    store.put_user(frank)
    assert store.find_user_by_phone(CAROL_PHONE) == frank


def test_concurrent_claims_of_one_number_exactly_one_wins(store: Store, open_same: StoreOpener) -> None:
    def claim(client: Store, i: int) -> bool:
        try:
            client.put_user(User(f"usr_{i}", f"user{i}@example.com", phone=CAROL_PHONE))
        except PhoneNumberTaken:
            return False
        return True

    results = race(open_same, claim, racers=20)
    assert results.count(True) == 1
    winner = results.index(True)
    holder = store.find_user_by_phone(CAROL_PHONE)
    assert holder is not None and holder.user_id == f"usr_{winner}"
    stored = [u.user_id for u in store.list_users()]
    assert stored == [f"usr_{winner}"]  # the losers wrote nothing, not even their email


def test_dynamodb_finds_a_user_by_phone_with_gets_not_a_scan(request: pytest.FixtureRequest) -> None:
    from .conftest import fresh_store_url

    store = open_store(fresh_store_url("dynamodb", request, Path(".")))
    assert isinstance(store, DynamoDBStore)
    carol = User("usr_carol", "carol@example.com", phone=CAROL_PHONE)
    store.put_user(carol)
    for n in range(5):
        store.put_user(User(f"usr_{n}", f"user{n}@example.com", phone=f"+4474001234{n:02}"))
    calls = _record_calls(store)
    assert store.find_user_by_phone(CAROL_PHONE) == carol
    assert store.find_user_by_phone(OTHER_PHONE) is None
    assert set(calls) == {"get_item"}
    assert len(calls) == 3  # PHONE# then USER# for Carol; PHONE# alone for an unknown number


def _record_calls(store: DynamoDBStore) -> list[str]:
    """From now on, the names of the store's boto3 client calls, in order."""
    client = store._db
    calls: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            attr = getattr(client, name)
            if callable(attr) and not name.startswith("_"):

                def call(*args: Any, **kwargs: Any) -> Any:
                    calls.append(name)
                    return attr(*args, **kwargs)

                return call
            return attr

    store._made = Recording()
    return calls


def test_sqlite_refuses_a_shared_number_even_from_a_second_connection(tmp_path: Path) -> None:
    first, second = SQLiteStore(tmp_path / "store.db"), SQLiteStore(tmp_path / "store.db")
    first.put_user(User("usr_carol", "carol@example.com", phone=CAROL_PHONE))
    with pytest.raises(PhoneNumberTaken):
        second.put_user(User("usr_dave", "dave@example.com", phone=CAROL_PHONE))
    assert first.get_user("usr_dave") is None


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


def _body(user_id: str, phone: str | None) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "email": f"{user_id}@example.com",
        "email_verified": True,
        "name": "",
        "roles": [],
        "disabled": False,
        "phone": phone,
    }


def test_postgresql_migration_6_refuses_shared_numbers_naming_them_and_changes_nothing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    from tessera.store import postgres_schema

    admin: str = request.getfixturevalue("postgres_template")
    name = f"phones_{abs(hash(request.node.nodeid)) % 10**8}"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name}".encode())
        db.execute(f"CREATE DATABASE {name}".encode())
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    with monkeypatch.context() as before_phones:  # a database of the release before migration 7
        before_phones.setattr(postgres_schema, "MIGRATIONS", postgres_schema.MIGRATIONS[:6])
        migrate_store(url)
    rows: list[tuple[str, str | None]] = [("usr_a", "+447400000001"), ("usr_b", "+447400000001")]
    rows += [("usr_c", "+447400000002")]
    rows += [("usr_d", "+447400000002"), ("usr_e", "+447400000003"), ("usr_f", None)]
    with psycopg.connect(url, autocommit=True) as db:
        for user_id, phone in rows:
            db.execute(
                "INSERT INTO users VALUES (%s, %s, %s)",
                (user_id, f"{user_id}@example.com", Jsonb(_body(user_id, phone))),
            )
    with pytest.raises(SharedPhoneNumbers) as refused:
        migrate_store(url)
    assert str(refused.value).startswith(
        "users share phone numbers: +447400000001 (usr_a, usr_b); +447400000002 (usr_c, usr_d)."
    )
    with psycopg.connect(url, autocommit=True) as db:
        assert db.execute("SELECT version FROM tessera_schema").fetchone() == (6,)
        assert db.execute("SELECT count(*) FROM users").fetchone() == (6,)
        for user_id in ("usr_b", "usr_d"):
            db.execute(
                "UPDATE users SET body = %s WHERE user_id = %s", (Jsonb(_body(user_id, None)), user_id)
            )
    assert migrate_store(url) == [
        "applied migration 7: phone numbers unique among users (index users_by_phone)"
    ]
    store = open_store(url)
    try:
        found = store.find_user_by_phone("+447400000001")
        assert found is not None and found.user_id == "usr_a"
        with pytest.raises(PhoneNumberTaken):
            store.put_user(User("usr_f", "usr_f@example.com", phone="+447400000003"))
    finally:
        store.close()


def test_the_cli_names_shared_numbers_on_one_line_and_exits_2(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    from tessera.cli import main

    from .conftest import fresh_store_url

    url = fresh_store_url("dynamodb", request, Path("."))
    store = open_store(url)
    assert isinstance(store, DynamoDBStore)
    for user_id in ("usr_a", "usr_b"):  # as a release before PHONE# items stored them
        store._db.put_item(TableName=store.table, Item=_legacy_user_item(user_id, CAROL_PHONE))
    store._db.put_item(TableName=store.table, Item=_legacy_user_item("usr_c", OTHER_PHONE))
    store._db.put_item(
        TableName=store.table, Item={"pk": {"S": "SCHEMA"}, "sk": {"S": "-"}, "version": {"N": "1"}}
    )
    assert main(["store", "migrate", "--store", url]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: users share phone numbers: {CAROL_PHONE} (usr_a, usr_b). "
        "Give each number to one user, then migrate again\n"
    )
    assert store.find_user_by_phone(OTHER_PHONE) is None  # nothing was indexed
    store._db.delete_item(TableName=store.table, Key={"pk": {"S": "USER#usr_b"}, "sk": {"S": "-"}})
    assert main(["store", "migrate", "--store", url]) == 0
    assert "indexed 2 phone numbers (PHONE# items)" in capsys.readouterr().out
    carol, other = store.find_user_by_phone(CAROL_PHONE), store.find_user_by_phone(OTHER_PHONE)
    assert carol is not None and carol.user_id == "usr_a"
    assert other is not None and other.user_id == "usr_c"
    with pytest.raises(PhoneNumberTaken):
        store.put_user(User("usr_d", "usr_d@example.com", phone=OTHER_PHONE))
    store.close()


def _legacy_user_item(user_id: str, phone: str) -> dict[str, Any]:
    body = json.dumps(_body(user_id, phone), separators=(",", ":"), sort_keys=True)
    return {
        "pk": {"S": f"USER#{user_id}"},
        "sk": {"S": "-"},
        "email": {"S": f"{user_id}@example.com"},
        "body": {"S": body},
    }
