"""The PostgreSQL store's connection pool: small, opened lazily, reused across warm invocations.

A Lambda container (or any function instance) keeps the store in a module global, so the pool
outlives one invocation and a warm start reuses its connection. Connections are checked before
use, so one closed while the instance was frozen (Aurora Serverless pausing, Neon suspending,
RDS Proxy or the server dropping idle clients) is replaced instead of failing a request.
Prepared statements are off (``prepare_threshold=None``), so transaction-pooling proxies
(RDS Proxy, PgBouncer, Neon's pooler) can hand each transaction to any server connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresBase"]

Row = dict[str, Any]


class PostgresBase:
    """A lazily opened ``psycopg_pool.ConnectionPool`` and the statement helpers built on it."""

    def __init__(self, conninfo: str, *, max_size: int = 4, max_idle: float = 300.0) -> None:
        self.conninfo = conninfo
        self._max_size = max_size
        self._max_idle = max_idle
        self._pool_lock = threading.Lock()
        self._opened: ConnectionPool[Any] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<postgresql>)"  # the URL may carry a password

    def _pool(self) -> ConnectionPool[Any]:
        pool = self._opened
        if pool is not None:
            return pool
        with self._pool_lock:
            if self._opened is None:
                from psycopg.rows import dict_row
                from psycopg_pool import ConnectionPool

                self._opened = ConnectionPool(
                    self.conninfo,
                    min_size=1,
                    max_size=self._max_size,
                    max_idle=self._max_idle,
                    kwargs={"autocommit": True, "prepare_threshold": None, "row_factory": dict_row},
                    check=ConnectionPool.check_connection,
                    open=True,
                    name="tessera",
                )
            return self._opened

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Row]]:
        """A connection inside one transaction (committed on success, rolled back on error)."""
        with self._pool().connection() as db, db.transaction():
            yield db

    def _one(self, sql: str, *args: Any) -> Row | None:
        with self._pool().connection() as db:
            row: Row | None = db.execute(sql.encode(), args).fetchone()
            return row

    def _all(self, sql: str, *args: Any) -> list[Row]:
        with self._pool().connection() as db:
            rows: list[Row] = db.execute(sql.encode(), args).fetchall()
            return rows

    def _run(self, sql: str, *args: Any) -> int:
        """Execute one statement in its own (auto-committed) transaction; the rows it touched."""
        with self._pool().connection() as db:
            count: int = db.execute(sql.encode(), args).rowcount
            return count

    def migrate(self) -> list[str]:
        """Create or upgrade the schema; one line per step taken."""
        from .postgres_schema import migrate

        with self._pool().connection() as db:
            return migrate(db)

    def close(self) -> None:
        """Close the pool (a later call opens a new one)."""
        with self._pool_lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
