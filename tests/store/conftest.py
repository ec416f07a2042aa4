"""The store under test, on every backend: SQLite, PostgreSQL and DynamoDB (and Redis beside them).

Servers start once per session (:mod:`tests.store.servers`) and only when a test needs them.
Every test gets an empty store of its own: a SQLite file, a PostgreSQL database copied from a
migrated template, a DynamoDB table; Redis is flushed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tessera.store import Store
from tessera.store.url import migrate_store, open_store

from .servers import moto_server, postgres_server, redis_server

NOW = 1_800_000_000.0

BACKENDS = ("sqlite", "postgresql", "dynamodb")
WITH_REDIS = ("postgresql+redis", "dynamodb+redis")
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL server with a migrated template database ``tessera_template``; its admin URL."""
    import psycopg

    with postgres_server() as admin:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute("CREATE DATABASE tessera_template")
        template = admin.rsplit("/", 1)[0] + "/tessera_template"
        migrate_store(template)
        yield admin


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's DynamoDB server."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server."""
    with redis_server() as url:
        yield url


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def fresh_store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a new, empty, migrated store of ``kind`` (``sqlite``, ``postgresql``, ``dynamodb``)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    if kind == "postgresql":
        import psycopg

        admin: str = request.getfixturevalue("postgres_template")
        name = f"t{next(_numbers)}_{abs(hash(request.node.nodeid)) % 10**8}"
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name} TEMPLATE tessera_template".encode())
        return admin.rsplit("/", 1)[0] + f"/{name}"
    endpoint: str = request.getfixturevalue("moto_endpoint")
    table = f"t-{next(_numbers)}-{abs(hash(request.node.nodeid)) % 10**8}"
    url = f"dynamodb://{table}?region=us-east-1&endpoint_url={endpoint}"
    migrate_store(url)
    return url


StoreOpener = Callable[[], Store]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of this run of the test."""
    kind: str = request.param
    return kind


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL on ``backend``."""
    return fresh_store_url(backend, request, tmp_path)


@pytest.fixture
def open_same(store_url: str) -> Iterator[StoreOpener]:
    """Opens another client of the same store: its own connection, as another instance would."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(open_store(store_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_same: StoreOpener) -> Store:
    """A fresh, empty store on each backend."""
    return open_same()


@pytest.fixture(params=BACKENDS + WITH_REDIS)
def hot_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on each backend, and on the network databases with Redis beside them."""
    kind, _, cache = str(request.param).partition("+")
    url = fresh_store_url(kind, request, tmp_path)
    cache_url = None
    if cache:
        import redis

        cache_url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(cache_url).flushdb()
    opened = open_store(url, cache_url)
    yield opened
    opened.close()
