"""The user loader writes what the stores' own ``put_user`` writes, so loaded users are real users."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera.store import User
from tessera.store.url import migrate_store, open_store
from tests.store.servers import postgres_server

from .modules import bench_module

load_users = bench_module("load_users")
moto = bench_module("moto_server")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto.moto_server() as endpoint:
        yield endpoint


def _scan(store: Any) -> list[dict[str, Any]]:
    """The table's items of users (its schema's own items left out)."""
    items: list[dict[str, Any]] = store._db.scan(TableName=store.table, ConsistentRead=True)["Items"]
    return [item for item in items if not item["pk"]["S"].startswith("SCHEMA")]


def _without_ids(items: list[dict[str, Any]], user: User) -> list[str]:
    """The items as JSON text, the user's id replaced, in a stable order."""
    return sorted(json.dumps(item, sort_keys=True).replace(user.user_id, "ID") for item in items)


@pytest.mark.usefixtures("aws")
def test_dynamodb_items_are_those_put_user_writes(moto_endpoint: str) -> None:
    stored, loaded = (f"dynamodb://{name}?region=us-east-1&endpoint_url={moto_endpoint}" for name in "ab")
    migrate_store(stored)
    migrate_store(loaded)
    user = load_users.bench_user(7)
    reference = open_store(stored)
    reference.put_user(user)

    assert load_users.load(loaded, 10, stream=io.StringIO())[0] == 10

    store = open_store(loaded)
    found = store.find_user_by_email(load_users.EMAIL_FORMAT.format(7))
    assert found is not None
    assert found == User(**{**user.__dict__, "user_id": found.user_id})
    assert len(_scan(store)) == 10 * len(_scan(reference))
    ours = [item for item in _scan(store) if {found.user_id, found.email} & set(json.dumps(item).split('"'))]
    assert _without_ids(ours, found) == _without_ids(_scan(reference), user)


@pytest.mark.usefixtures("aws")
def test_a_dynamodb_recorder_refuses_a_put_user_it_cannot_batch(moto_endpoint: str) -> None:
    url = f"dynamodb://c?region=us-east-1&endpoint_url={moto_endpoint}"
    migrate_store(url)
    store = open_store(url)
    items_of = load_users.dynamodb_recorder(store)
    assert {item["pk"]["S"].split("#")[0] for item in items_of(load_users.bench_user(1))} == {"USER", "EMAIL"}

    class Displacing(type(store)):  # type: ignore[misc]
        def put_user(self, user: User) -> None:
            self._transact([{"Delete": {"Key": {}}}])

    displacing = Displacing.__new__(Displacing)
    displacing.__dict__.update(store.__dict__)
    with pytest.raises(RuntimeError, match="one transaction of puts"):
        load_users.dynamodb_recorder(displacing)(load_users.bench_user(2))


def test_postgres_rows_are_those_put_user_writes() -> None:
    import psycopg

    with postgres_server() as url:
        migrate_store(url)
        user = load_users.bench_user(3)
        open_store(url).put_user(user)
        with psycopg.connect(url) as db:
            (reference,) = db.execute("SELECT user_id, email, body FROM users").fetchall()
            db.execute("DELETE FROM users")

        assert load_users.load(url, 5, stream=io.StringIO())[0] == 5

        with psycopg.connect(url) as db:
            rows = db.execute("SELECT user_id, email, body FROM users ORDER BY email").fetchall()
        assert len(rows) == 5
        user_id, email, body = rows[3]
        assert (email, body) == (reference[1], {**reference[2], "user_id": user_id})
        found = open_store(url).find_user_by_email(email.upper())
        assert found is not None and found.user_id == user_id


def test_the_progress_bar_counts_to_the_total() -> None:
    stream = io.StringIO()
    progress = load_users.Progress("users", 4, stream, width=8)
    progress.advance(1)
    assert progress.line(0.5).startswith("users [##......] 1/4 25% 2/s 2 s left")
    progress.advance(3)
    assert stream.getvalue().endswith("\n")
    assert "users [########] 4/4 100%" in stream.getvalue()


def test_a_time_budget_stops_the_load_after_whole_batches(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'budget.db'}"
    migrate_store(url)
    stream = io.StringIO()

    loaded, _ = load_users.load(url, 5000, stream=stream, max_seconds=0)

    assert loaded == 0
    assert "stopped after 0 s: 0 of 5000 users" in stream.getvalue()
    assert load_users.load(url, 1500, stream=stream, max_seconds=60)[0] == 1500
    assert open_store(url).find_user_by_email(load_users.EMAIL_FORMAT.format(1499)) is not None


def test_the_command_line_refuses_a_bad_count() -> None:
    assert load_users.main(["--store", "sqlite:///x.db", "--count", "0"], loader=_never) == 2


def _never(*args: object, **kwargs: object) -> float:
    raise AssertionError("must not load")
