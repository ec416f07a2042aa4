"""The SQLite store: WAL, one connection per thread, conditional writes for every single use."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from types import MappingProxyType

from .errors import PhoneNumberTaken
from .records import (
    AccessTokenRecord,
    AuthorizationCode,
    ClientRecord,
    Grant,
    RefreshRotation,
    RefreshState,
    RefreshToken,
    SigningKeyRecord,
    User,
    grant_from_body,
)
from .rows import refresh_from
from .sqlite_accounts import AccountTables
from .sqlite_consent import ConsentTable
from .sqlite_mail import MailQueueTable
from .sqlite_passkeys import PasskeyTables
from .sqlite_schema import client_from, dump, user_from
from .sqlite_signin import SignInTables, revoke_access_tokens_of
from .sqlite_totp import TotpTables
from .sqlite_upstream import UpstreamTables

__all__ = ["SQLiteStore"]


class SQLiteStore(
    SignInTables, ConsentTable, MailQueueTable, PasskeyTables, TotpTables, UpstreamTables, AccountTables
):
    """A :class:`~tessera.store.Store` in one SQLite file (or ``":memory:"`` for one thread).

    Writes that decide a race (consuming a code, rotating a refresh token, counting a one-time
    code attempt) are single conditional ``UPDATE`` statements inside ``BEGIN IMMEDIATE``
    transactions, so exactly one of any number of concurrent callers wins.
    """

    # clients and users
    def put_client(self, client: ClientRecord) -> None:
        """Create or replace a client."""
        body = {**client.__dict__, "jwks": dict(client.jwks) if client.jwks is not None else None}
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO clients VALUES (?, ?)", (client.client_id, dump(body)))
        self._unsettle()

    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client, or None."""

        def load(db: sqlite3.Connection) -> ClientRecord | None:
            row = db.execute("SELECT body FROM clients WHERE client_id = ?", (client_id,)).fetchone()
            return client_from(row["body"]) if row else None

        return self._settled(("client", client_id), load)

    def put_user(self, user: User) -> None:
        """Create or replace a user; a user holding the same email before is replaced.

        Raises :class:`PhoneNumberTaken`, having written nothing, when another user holds the
        phone number (the ``user_phones`` primary key decides).
        """
        email = user.email.lower()
        with self._transaction() as db:
            db.execute(
                "DELETE FROM user_phones WHERE user_id IN "
                "(SELECT user_id FROM users WHERE email = ? AND user_id != ?)",
                (email, user.user_id),
            )
            db.execute("DELETE FROM users WHERE email = ? AND user_id != ?", (email, user.user_id))
            db.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?)", (user.user_id, email, dump(user.__dict__))
            )
            db.execute("DELETE FROM user_phones WHERE user_id = ?", (user.user_id,))
            if user.phone:
                try:
                    db.execute("INSERT INTO user_phones VALUES (?, ?)", (user.phone, user.user_id))
                except sqlite3.IntegrityError:
                    raise PhoneNumberTaken() from None

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        row = self._one("SELECT body FROM users WHERE user_id = ?", user_id)
        return user_from(row["body"]) if row else None

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        row = self._one("SELECT body FROM users WHERE email = ?", email.lower())
        return user_from(row["body"]) if row else None

    def find_user_by_phone(self, phone: str) -> User | None:
        """The user whose phone is this E.164 number, or None."""
        row = self._one(
            "SELECT body FROM users JOIN user_phones USING (user_id) WHERE user_phones.phone = ?", phone
        )
        return user_from(row["body"]) if row else None

    def list_clients(self) -> Sequence[ClientRecord]:
        """Every registered client, by id."""
        rows = self._connection().execute("SELECT body FROM clients ORDER BY client_id").fetchall()
        return [client_from(row["body"]) for row in rows]

    def delete_client(self, client_id: str) -> bool:
        """Remove a client; False when there was none."""
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM clients WHERE client_id = ?", (client_id,)).rowcount
        self._unsettle()
        return bool(deleted)

    def list_users(self, limit: int | None = None) -> Sequence[User]:
        """Every user, by email; with ``limit``, the first that many."""
        rows = (
            self._connection()
            .execute("SELECT body FROM users ORDER BY email LIMIT ?", (-1 if limit is None else limit,))
            .fetchall()
        )
        return [user_from(row["body"]) for row in rows]

    def delete_user(self, user_id: str) -> bool:
        """Remove a user (their sessions stop working) and their linked upstream identities; False if none."""
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount
            db.execute("DELETE FROM user_phones WHERE user_id = ?", (user_id,))
            db.execute(
                "DELETE FROM upstream_tokens WHERE (upstream_id, subject) IN "
                "(SELECT upstream_id, subject FROM upstream_links WHERE user_id = ?)",
                (user_id,),
            )
            db.execute("DELETE FROM upstream_links WHERE user_id = ?", (user_id,))
        return bool(deleted)

    # authorization codes
    def save_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO codes VALUES (?, ?, ?, 0)",
                (code.code_hash, dump(code.__dict__), code.expires_at),
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
                (grant.grant_id, dump(grant.__dict__), grant.session_hash, grant.expires_at),
            )

    def get_grant(self, grant_id: str) -> Grant | None:
        """The grant (with its revocation flag), or None."""
        row = self._one("SELECT body, revoked FROM grants WHERE grant_id = ?", grant_id)
        if row is None or row["body"] is None:
            return None
        return grant_from_body(json.loads(row["body"]), revoked=bool(row["revoked"]))

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant (or leave a revocation marker if it does not exist yet) and its tokens."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO grants (grant_id, body, session_hash, expires_at, revoked) "
                "VALUES (?, NULL, NULL, 9e18, 1) ON CONFLICT (grant_id) DO UPDATE SET revoked = 1",
                (grant_id,),
            )
            revoke_access_tokens_of(db, grant_id)

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
        return refresh_from(row) if row else None

    def rotate_refresh(
        self,
        token_hash: str,
        successor: RefreshToken,
        now: float,
        access_token: AccessTokenRecord | None = None,
    ) -> RefreshRotation:
        """Retire ``token_hash`` if still active and unexpired, and store ``successor``, atomically.

        The grant's access tokens issued so far are revoked in the same transaction, and
        ``access_token``, the successor's companion, is recorded in it.
        """
        with self._transaction() as db:
            retired = db.execute(
                "UPDATE refresh_tokens SET state = ?, rotated_at = ? "
                "WHERE token_hash = ? AND state = ? AND expires_at > ? RETURNING *",
                (RefreshState.ROTATED.value, now, token_hash, RefreshState.ACTIVE.value, now),
            ).fetchone()
            if retired is not None:
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
                revoke_access_tokens_of(db, successor.grant_id)
                if access_token is not None:
                    _insert_access_token(db, access_token)
                return RefreshRotation(True, refresh_from(retired))
            row = db.execute("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
            return RefreshRotation(False, refresh_from(row) if row else None)

    def save_access_token(self, record: AccessTokenRecord) -> None:
        """Remember an access token issued in a grant, so that revoking the grant reaches it."""
        with self._transaction() as db:
            _insert_access_token(db, record)

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """The access token record, or None."""
        row = self._one("SELECT * FROM access_tokens WHERE jti = ?", jti)
        if row is None:
            return None
        return AccessTokenRecord(
            row["jti"], row["client_id"], row["grant_id"], row["expires_at"], bool(row["revoked"])
        )

    def revoke_access_token(self, record: AccessTokenRecord) -> None:
        """Revoke one access token: mark its record, creating it when none was saved (no grant)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO access_tokens VALUES (?, ?, ?, ?, 1) "
                "ON CONFLICT (jti) DO UPDATE SET revoked = 1",
                (record.jti, record.client_id, record.grant_id, record.expires_at),
            )

    # signing keys
    def list_signing_keys(self) -> Sequence[SigningKeyRecord]:
        """Every stored signing key, oldest first."""
        return self._settled(("signing_keys", ""), _signing_keys) or ()

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
                    (k.kid, k.alg, k.status, dump(dict(k.public_jwk)), k.sealed_private, k.created_at)
                    for k in keys
                ],
            )
        self._unsettle()
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
            ("DELETE FROM mail_queue WHERE expires_at <= ?", (now - 86400,)),
            ("DELETE FROM passkey_challenges WHERE expires_at <= ?", (now,)),
            ("DELETE FROM rate_hits WHERE window < ?", (int(now // 60) - 60,)),
            ("DELETE FROM upstream_logins WHERE expires_at <= ?", (now,)),
            ("DELETE FROM upstream_sessions WHERE expires_at <= ?", (now,)),
        )
        removed = 0
        with self._transaction() as db:
            for sql, args in statements:
                removed += db.execute(sql, args).rowcount
        return removed


def _insert_access_token(db: sqlite3.Connection, record: AccessTokenRecord) -> None:
    db.execute(
        "INSERT INTO access_tokens VALUES (?, ?, ?, ?, ?)",
        (record.jti, record.client_id, record.grant_id, record.expires_at, int(record.revoked)),
    )


def _signing_keys(db: sqlite3.Connection) -> tuple[SigningKeyRecord, ...]:
    rows = db.execute("SELECT * FROM signing_keys ORDER BY created_at").fetchall()
    return tuple(
        SigningKeyRecord(
            r["kid"],
            r["alg"],
            r["status"],
            MappingProxyType(json.loads(r["public_jwk"])),
            bytes(r["sealed_private"]),
            r["created_at"],
        )
        for r in rows
    )
