"""The SQLite connection handling and the sign-in tables (sessions, pending requests, codes)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .records import OneTimeCode, PendingRequest, Session
from .rows import session_from
from .sqlite_schema import SCHEMA, add_missing_columns, dump

__all__ = ["SQLiteBase", "SignInTables", "revoke_access_tokens_of", "revoke_grant_rows"]

T = TypeVar("T")
MAX_SETTLED = 1024


def revoke_access_tokens_of(db: sqlite3.Connection, grant_id: str) -> None:
    """Mark the grant's access tokens that are still live revoked (index ``live_access_by_grant``)."""
    db.execute("UPDATE access_tokens SET revoked = 1 WHERE grant_id = ? AND revoked = 0", (grant_id,))


def revoke_grant_rows(db: sqlite3.Connection, grant_id: str) -> None:
    """Mark a stored grant revoked, and its access tokens that are not yet."""
    db.execute("UPDATE grants SET revoked = 1 WHERE grant_id = ?", (grant_id,))
    revoke_access_tokens_of(db, grant_id)


class SQLiteBase:
    """One connection per thread, WAL, and ``BEGIN IMMEDIATE`` write transactions.

    The threads of one process take turns at writing through a lock of their own before
    ``BEGIN IMMEDIATE``: SQLite's busy handler would otherwise make a thread that finds the
    database locked sleep for 1 ms, then 2, 5, 10 ... however soon the writer finishes, which
    under concurrent refreshes left the CPU idle. Other processes still meet ``busy_timeout``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_turn = threading.Lock()
        db = self._connection()
        db.executescript(SCHEMA)
        add_missing_columns(db)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        with self._write_turn:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _settled(self, key: tuple[str, str], load: Callable[[sqlite3.Connection], T | None]) -> T | None:
        """``load(db)`` for a table that rarely changes, remembered until the database changes.

        ``PRAGMA data_version`` moves whenever another connection (another thread, the CLI,
        another process) commits, so a remembered answer is never stale; the writers of these
        tables on this connection call :meth:`_unsettle`. Only found rows are remembered, so
        lookups of unknown ids cannot grow the memory.
        """
        db = self._connection()
        local = self._local
        version = db.execute("PRAGMA data_version").fetchone()[0]
        settled: dict[tuple[str, str], Any] | None = getattr(local, "settled", None)
        if settled is None or local.version != version or len(settled) >= MAX_SETTLED:
            settled = local.settled = {}
            local.version = version
        if key in settled:
            value: T = settled[key]
            return value
        found = load(db)
        if found is not None:
            settled[key] = found
        return found

    def _unsettle(self) -> None:
        self._local.settled = None

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._connection().execute(sql, args).fetchone()
        return row

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
            self._local.settled = None


class SignInTables(SQLiteBase):
    """Sessions, pending authorization requests, one-time codes, seen ``jti`` values, rate counters."""

    # sessions and sign-in
    def create_session(self, session: Session) -> None:
        """Store a new session."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sessions (session_hash, user_id, auth_time, expires_at, amr, method, "
                "user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    session.session_hash,
                    session.user_id,
                    session.auth_time,
                    session.expires_at,
                    " ".join(session.amr),
                    session.method,
                    session.user_agent,
                ),
            )

    def get_session(self, session_hash: str, now: float) -> Session | None:
        """The live session, or None when unknown, revoked or expired."""
        row = self._one(
            "SELECT * FROM sessions WHERE session_hash = ? AND revoked = 0 AND expires_at > ?",
            session_hash,
            now,
        )
        return session_from(row) if row is not None else None

    def end_session(self, session_hash: str) -> None:
        """Revoke a session and every grant (and so every token) made under it."""
        with self._transaction() as db:
            db.execute("UPDATE sessions SET revoked = 1 WHERE session_hash = ?", (session_hash,))
            grant_ids = [
                r["grant_id"]
                for r in db.execute("SELECT grant_id FROM grants WHERE session_hash = ?", (session_hash,))
            ]
            for grant_id in grant_ids:
                revoke_grant_rows(db, grant_id)

    def save_pending(self, request: PendingRequest) -> None:
        """Store an authorization request that waits for sign-in."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO pending VALUES (?, ?, ?, ?, ?)",
                (
                    request.request_hash,
                    dump(dict(request.params)),
                    request.created_at,
                    request.expires_at,
                    int(request.force_login),
                ),
            )

    def get_pending(self, request_hash: str, now: float) -> PendingRequest | None:
        """The pending request, or None when unknown or expired."""
        row = self._one("SELECT * FROM pending WHERE request_hash = ? AND expires_at > ?", request_hash, now)
        if row is None:
            return None
        return PendingRequest(
            row["request_hash"],
            json.loads(row["body"]),
            row["created_at"],
            row["expires_at"],
            bool(row["force_login"]),
        )

    def delete_pending(self, request_hash: str) -> None:
        """Forget a pending request."""
        with self._transaction() as db:
            db.execute("DELETE FROM pending WHERE request_hash = ?", (request_hash,))

    def save_one_time_code(self, code: OneTimeCode) -> None:
        """Store a new one-time code challenge."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO one_time_codes VALUES (?, ?, ?, ?, ?, 0, 0)",
                (code.challenge_hash, code.email.lower(), code.code_mac, code.created_at, code.expires_at),
            )

    def attempt_one_time_code(self, challenge_hash: str, max_attempts: int, now: float) -> OneTimeCode | None:
        """Count one attempt atomically; None once the challenge is dead, used or expired."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE one_time_codes SET attempts = attempts + 1 WHERE challenge_hash = ? "
                "AND attempts < ? AND consumed = 0 AND expires_at > ?",
                (challenge_hash, max_attempts, now),
            )
            if cursor.rowcount != 1:
                return None
            row = db.execute(
                "SELECT * FROM one_time_codes WHERE challenge_hash = ?", (challenge_hash,)
            ).fetchone()
        return OneTimeCode(
            row["challenge_hash"],
            row["email"],
            row["code_mac"],
            row["created_at"],
            row["expires_at"],
            row["attempts"],
            bool(row["consumed"]),
        )

    def consume_one_time_code(self, challenge_hash: str, now: float) -> bool:
        """Mark the challenge used; True for exactly one caller."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE one_time_codes SET consumed = 1 WHERE challenge_hash = ? AND consumed = 0 "
                "AND expires_at > ?",
                (challenge_hash, now),
            )
            return cursor.rowcount == 1

    def remember_jti(self, issuer: str, jti: str, expires_at: float, now: float) -> bool:
        """Record a one-time ``jti``; False when it is already known and not yet expired."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM seen_jti WHERE issuer = ? AND jti = ? AND expires_at <= ?", (issuer, jti, now)
            )
            cursor = db.execute(
                "INSERT INTO seen_jti VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (issuer, jti, expires_at)
            )
            return cursor.rowcount == 1

    # rate limits
    def count_hits(self, key: str, window: int) -> int:
        """How many hits ``key`` has in window ``window``."""
        row = self._one("SELECT hits FROM rate_hits WHERE key = ? AND window = ?", key, window)
        return int(row["hits"]) if row else 0

    def add_hit(self, key: str, window: int) -> int:
        """Count one hit atomically; the new count."""
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO rate_hits VALUES (?, ?, 1) ON CONFLICT (key, window) "
                "DO UPDATE SET hits = hits + 1 RETURNING hits",
                (key, window),
            ).fetchone()
        return int(row["hits"])
