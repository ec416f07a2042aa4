"""The SQLite store: WAL, one connection per thread, conditional writes for every single use."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import (
    AccessTokenRecord,
    AuthorizationCode,
    ClientRecord,
    Grant,
    OneTimeCode,
    PendingRequest,
    RefreshRotation,
    RefreshState,
    RefreshToken,
    Session,
    SigningKeyRecord,
    User,
)

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at REAL NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT PRIMARY KEY, body TEXT, session_hash TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS grants_by_session ON grants (session_hash);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, client_id TEXT NOT NULL,
    issued_at REAL NOT NULL, expires_at REAL NOT NULL, state TEXT NOT NULL, rotated_at REAL);
CREATE INDEX IF NOT EXISTS refresh_by_grant ON refresh_tokens (grant_id);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY, client_id TEXT NOT NULL, grant_id TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS access_by_grant ON access_tokens (grant_id);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, auth_time INTEGER NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS pending (
    request_hash TEXT PRIMARY KEY, body TEXT NOT NULL, created_at REAL NOT NULL,
    expires_at REAL NOT NULL, force_login INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS one_time_codes (
    challenge_hash TEXT PRIMARY KEY, email TEXT NOT NULL, code_mac TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    consumed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS otc_by_email ON one_time_codes (email, created_at);
CREATE TABLE IF NOT EXISTS seen_jti (
    issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (issuer, jti));
CREATE TABLE IF NOT EXISTS rate_hits (
    key TEXT NOT NULL, window INTEGER NOT NULL, hits INTEGER NOT NULL, PRIMARY KEY (key, window));
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, status TEXT NOT NULL, public_jwk TEXT NOT NULL,
    sealed_private BLOB NOT NULL, created_at REAL NOT NULL);
"""


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _client_from(body: str) -> ClientRecord:
    data = json.loads(body)
    for name in ("redirect_uris", "auth_methods", "grant_types", "scopes", "post_logout_redirect_uris"):
        data[name] = tuple(data[name])
    return ClientRecord(**data)


def _user_from(body: str) -> User:
    data = json.loads(body)
    data["roles"] = tuple(data["roles"])
    return User(**data)


def _refresh_from(row: sqlite3.Row) -> RefreshToken:
    return RefreshToken(
        token_hash=row["token_hash"],
        grant_id=row["grant_id"],
        client_id=row["client_id"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        state=RefreshState(row["state"]),
        rotated_at=row["rotated_at"],
    )


class SQLiteStore:
    """A :class:`~tessera.store.Store` in one SQLite file (or ``":memory:"`` for one thread).

    Writes that decide a race (consuming a code, rotating a refresh token, counting a one-time
    code attempt) are single conditional ``UPDATE`` statements inside ``BEGIN IMMEDIATE``
    transactions, so exactly one of any number of concurrent callers wins.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._connection().executescript(_SCHEMA)

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
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._connection().execute(sql, args).fetchone()
        return row

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # clients and users
    def put_client(self, client: ClientRecord) -> None:
        """Create or replace a client."""
        body = {**client.__dict__, "jwks": dict(client.jwks) if client.jwks is not None else None}
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO clients VALUES (?, ?)", (client.client_id, _dump(body)))

    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client, or None."""
        row = self._one("SELECT body FROM clients WHERE client_id = ?", client_id)
        return _client_from(row["body"]) if row else None

    def put_user(self, user: User) -> None:
        """Create or replace a user."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM users WHERE email = ? AND user_id != ?", (user.email.lower(), user.user_id)
            )
            db.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?)",
                (user.user_id, user.email.lower(), _dump(user.__dict__)),
            )

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        row = self._one("SELECT body FROM users WHERE user_id = ?", user_id)
        return _user_from(row["body"]) if row else None

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        row = self._one("SELECT body FROM users WHERE email = ?", email.lower())
        return _user_from(row["body"]) if row else None

    # authorization codes
    def save_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO codes VALUES (?, ?, ?, 0)",
                (code.code_hash, _dump(code.__dict__), code.expires_at),
            )

    def get_code(self, code_hash: str, now: float) -> AuthorizationCode | None:
        """The code record, consumed or not, or None when unknown or expired."""
        row = self._one(
            "SELECT body, consumed FROM codes WHERE code_hash = ? AND expires_at > ?", code_hash, now
        )
        if row is None:
            return None
        data = json.loads(row["body"])
        data["consumed"] = bool(row["consumed"])
        return AuthorizationCode(**data)

    def consume_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used; True for exactly one caller, and only before it expires."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE codes SET consumed = 1 WHERE code_hash = ? AND consumed = 0 AND expires_at > ?",
                (code_hash, now),
            )
            return cursor.rowcount == 1

    # grants and tokens
    def create_grant(self, grant: Grant) -> None:
        """Record a grant; a revocation marker already stored under its id wins."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO grants VALUES (?, ?, ?, ?, 0) ON CONFLICT (grant_id) DO UPDATE SET "
                "body = excluded.body, session_hash = excluded.session_hash, "
                "expires_at = excluded.expires_at",
                (grant.grant_id, _dump(grant.__dict__), grant.session_hash, grant.expires_at),
            )

    def get_grant(self, grant_id: str) -> Grant | None:
        """The grant (with its revocation flag), or None."""
        row = self._one("SELECT body, revoked FROM grants WHERE grant_id = ?", grant_id)
        if row is None or row["body"] is None:
            return None
        data = json.loads(row["body"])
        data["revoked"] = bool(row["revoked"])
        return Grant(**data)

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant (or leave a revocation marker if it does not exist yet) and its tokens."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO grants (grant_id, body, session_hash, expires_at, revoked) "
                "VALUES (?, NULL, NULL, 9e18, 1) ON CONFLICT (grant_id) DO UPDATE SET revoked = 1",
                (grant_id,),
            )
            db.execute("UPDATE access_tokens SET revoked = 1 WHERE grant_id = ?", (grant_id,))

    def save_refresh(self, token: RefreshToken) -> None:
        """Store a new refresh token."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token.token_hash,
                    token.grant_id,
                    token.client_id,
                    token.issued_at,
                    token.expires_at,
                    token.state.value,
                    token.rotated_at,
                ),
            )

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        """The refresh token record in any state, or None."""
        row = self._one("SELECT * FROM refresh_tokens WHERE token_hash = ?", token_hash)
        return _refresh_from(row) if row else None

    def rotate_refresh(self, token_hash: str, successor: RefreshToken, now: float) -> RefreshRotation:
        """Retire ``token_hash`` if still active and unexpired, and store ``successor``, atomically."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE refresh_tokens SET state = ?, rotated_at = ? "
                "WHERE token_hash = ? AND state = ? AND expires_at > ?",
                (RefreshState.ROTATED.value, now, token_hash, RefreshState.ACTIVE.value, now),
            )
            if cursor.rowcount == 1:
                db.execute(
                    "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
                    (
                        successor.token_hash,
                        successor.grant_id,
                        successor.client_id,
                        successor.issued_at,
                        successor.expires_at,
                        RefreshState.ACTIVE.value,
                    ),
                )
            row = db.execute("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
            return RefreshRotation(cursor.rowcount == 1, _refresh_from(row) if row else None)

    def save_access_token(self, record: AccessTokenRecord) -> None:
        """Remember an issued access token."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO access_tokens VALUES (?, ?, ?, ?, ?)",
                (record.jti, record.client_id, record.grant_id, record.expires_at, int(record.revoked)),
            )

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """The access token record, or None."""
        row = self._one("SELECT * FROM access_tokens WHERE jti = ?", jti)
        if row is None:
            return None
        return AccessTokenRecord(
            row["jti"], row["client_id"], row["grant_id"], row["expires_at"], bool(row["revoked"])
        )

    def revoke_access_token(self, jti: str) -> None:
        """Revoke one access token."""
        with self._transaction() as db:
            db.execute("UPDATE access_tokens SET revoked = 1 WHERE jti = ?", (jti,))

    def revoke_access_tokens_of_grant(self, grant_id: str, except_jti: str) -> None:
        """Revoke every access token of a grant but ``except_jti``."""
        with self._transaction() as db:
            db.execute(
                "UPDATE access_tokens SET revoked = 1 WHERE grant_id = ? AND jti != ?", (grant_id, except_jti)
            )

    # sessions and sign-in
    def create_session(self, session: Session) -> None:
        """Store a new session."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, 0)",
                (session.session_hash, session.user_id, session.auth_time, session.expires_at),
            )

    def get_session(self, session_hash: str, now: float) -> Session | None:
        """The live session, or None when unknown, revoked or expired."""
        row = self._one(
            "SELECT * FROM sessions WHERE session_hash = ? AND revoked = 0 AND expires_at > ?",
            session_hash,
            now,
        )
        if row is None:
            return None
        return Session(row["session_hash"], row["user_id"], row["auth_time"], row["expires_at"])

    def end_session(self, session_hash: str) -> None:
        """Revoke a session and every grant (and so every token) made under it."""
        with self._transaction() as db:
            db.execute("UPDATE sessions SET revoked = 1 WHERE session_hash = ?", (session_hash,))
            grant_ids = [
                r["grant_id"]
                for r in db.execute("SELECT grant_id FROM grants WHERE session_hash = ?", (session_hash,))
            ]
            for grant_id in grant_ids:
                db.execute("UPDATE grants SET revoked = 1 WHERE grant_id = ?", (grant_id,))
                db.execute("UPDATE access_tokens SET revoked = 1 WHERE grant_id = ?", (grant_id,))

    def save_pending(self, request: PendingRequest) -> None:
        """Store an authorization request that waits for sign-in."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO pending VALUES (?, ?, ?, ?, ?)",
                (
                    request.request_hash,
                    _dump(dict(request.params)),
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

    def last_one_time_code_at(self, email: str) -> float | None:
        """When the newest challenge for ``email`` was created."""
        row = self._one("SELECT MAX(created_at) AS t FROM one_time_codes WHERE email = ?", email.lower())
        return None if row is None or row["t"] is None else float(row["t"])

    def count_one_time_code_failures(self, email: str, since: float) -> int:
        """Failed attempts (attempts that did not consume) against recent challenges."""
        row = self._one(
            "SELECT COALESCE(SUM(attempts - consumed), 0) AS n FROM one_time_codes "
            "WHERE email = ? AND created_at >= ?",
            email.lower(),
            since,
        )
        return int(row["n"]) if row else 0

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

    # signing keys
    def list_signing_keys(self) -> Sequence[SigningKeyRecord]:
        """Every stored signing key, oldest first."""
        rows = self._connection().execute("SELECT * FROM signing_keys ORDER BY created_at").fetchall()
        return [
            SigningKeyRecord(
                r["kid"],
                r["alg"],
                r["status"],
                json.loads(r["public_jwk"]),
                bytes(r["sealed_private"]),
                r["created_at"],
            )
            for r in rows
        ]

    def replace_signing_keys(self, expected_current: str | None, keys: Sequence[SigningKeyRecord]) -> bool:
        """Swap the whole key set if the current ``kid`` is still ``expected_current``."""
        with self._transaction() as db:
            row = db.execute("SELECT kid FROM signing_keys WHERE status = 'current'").fetchone()
            if (row["kid"] if row else None) != expected_current:
                return False
            db.execute("DELETE FROM signing_keys")
            db.executemany(
                "INSERT INTO signing_keys VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (k.kid, k.alg, k.status, _dump(dict(k.public_jwk)), k.sealed_private, k.created_at)
                    for k in keys
                ],
            )
            return True

    # housekeeping
    def purge_expired(self, now: float) -> int:
        """Delete expired rows. Refresh tokens (and so reuse markers) live as long as their grant."""
        statements = (
            ("DELETE FROM codes WHERE expires_at <= ?", (now - 3600,)),
            (
                "DELETE FROM refresh_tokens WHERE grant_id IN "
                "(SELECT grant_id FROM grants WHERE expires_at <= ?)",
                (now,),
            ),
            ("DELETE FROM access_tokens WHERE expires_at <= ?", (now,)),
            ("DELETE FROM grants WHERE expires_at <= ?", (now,)),
            ("DELETE FROM sessions WHERE expires_at <= ?", (now,)),
            ("DELETE FROM pending WHERE expires_at <= ?", (now,)),
            ("DELETE FROM one_time_codes WHERE expires_at <= ?", (now - 86400,)),
            ("DELETE FROM seen_jti WHERE expires_at <= ?", (now,)),
            ("DELETE FROM rate_hits WHERE window < ?", (int(now // 60) - 60,)),
        )
        removed = 0
        with self._transaction() as db:
            for sql, args in statements:
                removed += db.execute(sql, args).rowcount
        return removed
