"""The PostgreSQL store (psycopg 3): every single use and every rotation is one conditional statement.

Under PostgreSQL's default READ COMMITTED isolation, an ``UPDATE ... WHERE consumed = FALSE``
that finds its row locked waits for the other transaction and then re-checks its condition on
the row as committed, so of any number of concurrent callers exactly one sees ``rowcount == 1``.
Nothing is decided by a ``SELECT`` followed by a write. The schema lives in
:mod:`tessera.store.postgres_schema` and is created by ``tessera store migrate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from .errors import PhoneNumberTaken
from .postgres_accounts import PostgresAccounts
from .postgres_factors import PostgresFactors
from .postgres_mail import PostgresMailQueue
from .postgres_signin import PostgresSignIn
from .postgres_upstream import PostgresUpstreamLinks
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

__all__ = ["PostgresStore"]

_TUPLE_FIELDS = ("redirect_uris", "auth_methods", "grant_types", "scopes", "post_logout_redirect_uris")


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _client(body: Mapping[str, Any]) -> ClientRecord:
    data = dict(body)
    for name in _TUPLE_FIELDS:
        data[name] = tuple(data[name])
    return ClientRecord(**data)


def _user(body: Mapping[str, Any]) -> User:
    return User(**{**body, "roles": tuple(body["roles"])})


_INSERT_ACCESS = "INSERT INTO access_tokens VALUES (%s, %s, %s, %s, %s)"


def _access_row(record: AccessTokenRecord) -> tuple[Any, ...]:
    return (record.jti, record.client_id, record.grant_id, record.expires_at, record.revoked)


_REVOKE_LIVE_ACCESS = "UPDATE access_tokens SET revoked = TRUE WHERE grant_id = %s AND NOT revoked"


class PostgresStore(
    PostgresSignIn, PostgresFactors, PostgresMailQueue, PostgresUpstreamLinks, PostgresAccounts
):
    """A :class:`~tessera.store.Store` in PostgreSQL (a plain server, Aurora, Neon, RDS Proxy)."""

    # clients and users
    def put_client(self, client: ClientRecord) -> None:
        """Create or replace a client."""
        body = {**client.__dict__, "jwks": dict(client.jwks) if client.jwks is not None else None}
        self._run(
            "INSERT INTO clients VALUES (%s, %s) ON CONFLICT (client_id) DO UPDATE SET body = excluded.body",
            client.client_id,
            _json(body),
        )

    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client, or None."""
        row = self._one("SELECT body FROM clients WHERE client_id = %s", client_id)
        return _client(row["body"]) if row else None

    def put_user(self, user: User) -> None:
        """Create or replace a user; a user holding the same email before is replaced.

        Raises :class:`PhoneNumberTaken`, having written nothing, when another user holds the
        phone number (the unique index ``users_by_phone`` decides, also between concurrent writers).
        """
        from psycopg.errors import UniqueViolation

        try:
            with self._transaction() as db:
                db.execute(
                    b"DELETE FROM users WHERE email = %s AND user_id <> %s",
                    (user.email.lower(), user.user_id),
                )
                db.execute(
                    b"INSERT INTO users VALUES (%s, %s, %s) ON CONFLICT (user_id) DO UPDATE "
                    b"SET email = excluded.email, body = excluded.body",
                    (user.user_id, user.email.lower(), _json(user.__dict__ | {"roles": list(user.roles)})),
                )
        except UniqueViolation as exc:
            if exc.diag.constraint_name == "users_by_phone":
                raise PhoneNumberTaken() from None
            raise

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        row = self._one("SELECT body FROM users WHERE user_id = %s", user_id)
        return _user(row["body"]) if row else None

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        row = self._one("SELECT body FROM users WHERE email = %s", email.lower())
        return _user(row["body"]) if row else None

    def find_user_by_phone(self, phone: str) -> User | None:
        """The user whose phone is this E.164 number, or None (one row of the unique index)."""
        row = self._one("SELECT body FROM users WHERE body->>'phone' = %s AND body->>'phone' <> ''", phone)
        return _user(row["body"]) if row else None

    def list_clients(self) -> Sequence[ClientRecord]:
        """Every registered client, by id."""
        return [_client(row["body"]) for row in self._all("SELECT body FROM clients ORDER BY client_id")]

    def delete_client(self, client_id: str) -> bool:
        """Remove a client; False when there was none."""
        return self._run("DELETE FROM clients WHERE client_id = %s", client_id) > 0

    def list_users(self, limit: int | None = None) -> Sequence[User]:
        """Every user, by email; with ``limit``, the first that many."""
        rows = self._all("SELECT body FROM users ORDER BY email LIMIT %s", limit)
        return [_user(row["body"]) for row in rows]

    def delete_user(self, user_id: str) -> bool:
        """Remove a user (their sessions stop working) and their linked upstream identities; False if none."""
        with self._transaction() as db:
            db.execute(b"DELETE FROM upstream_links WHERE user_id = %s", (user_id,))
            return db.execute(b"DELETE FROM users WHERE user_id = %s", (user_id,)).rowcount > 0

    # authorization codes
    def save_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code."""
        self._run(
            "INSERT INTO codes VALUES (%s, %s, %s, FALSE)",
            code.code_hash,
            _json(code.__dict__),
            code.expires_at,
        )

    def get_code(self, code_hash: str, now: float) -> AuthorizationCode | None:
        """The code record, consumed or not, or None when unknown or expired."""
        row = self._one(
            "SELECT body, consumed FROM codes WHERE code_hash = %s AND expires_at > %s", code_hash, now
        )
        return AuthorizationCode(**{**row["body"], "consumed": row["consumed"]}) if row else None

    def consume_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used; True for exactly one caller, and only before it expires."""
        return (
            self._run(
                "UPDATE codes SET consumed = TRUE WHERE code_hash = %s AND NOT consumed AND expires_at > %s",
                code_hash,
                now,
            )
            == 1
        )

    # grants and tokens
    def create_grant(self, grant: Grant) -> None:
        """Record a grant; a revocation marker already stored under its id wins."""
        self._run(
            "INSERT INTO grants VALUES (%s, %s, %s, %s, %s, %s, FALSE) ON CONFLICT (grant_id) DO UPDATE "
            "SET body = excluded.body, user_id = excluded.user_id, client_id = excluded.client_id, "
            "session_hash = excluded.session_hash, expires_at = excluded.expires_at",
            grant.grant_id,
            _json(grant.__dict__),
            grant.user_id,
            grant.client_id,
            grant.session_hash,
            grant.expires_at,
        )

    def get_grant(self, grant_id: str) -> Grant | None:
        """The grant (with its revocation flag), or None."""
        row = self._one("SELECT body, revoked FROM grants WHERE grant_id = %s", grant_id)
        if row is None or row["body"] is None:
            return None
        return grant_from_body(row["body"], revoked=row["revoked"])

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant (or leave a revocation marker if it does not exist yet) and its tokens."""
        with self._transaction() as db:
            db.execute(
                b"INSERT INTO grants (grant_id, expires_at, revoked) VALUES (%s, 9e18, TRUE) "
                b"ON CONFLICT (grant_id) DO UPDATE SET revoked = TRUE",
                (grant_id,),
            )
            db.execute(_REVOKE_LIVE_ACCESS.encode(), (grant_id,))

    def save_refresh(self, token: RefreshToken) -> None:
        """Store a new refresh token."""
        self._run(
            "INSERT INTO refresh_tokens VALUES (%s, %s, %s, %s, %s, %s, %s)",
            token.token_hash,
            token.grant_id,
            token.client_id,
            token.issued_at,
            token.expires_at,
            token.state.value,
            token.rotated_at,
        )

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        """The refresh token record in any state, or None."""
        row = self._one("SELECT * FROM refresh_tokens WHERE token_hash = %s", token_hash)
        return refresh_from(row) if row else None

    def rotate_refresh(
        self,
        token_hash: str,
        successor: RefreshToken,
        now: float,
        access_token: AccessTokenRecord | None = None,
    ) -> RefreshRotation:
        """Retire ``token_hash`` if still active and unexpired, and store ``successor``, atomically.

        The conditional ``UPDATE`` decides the race; the successor, the revocation of the
        grant's earlier access tokens and the record of ``access_token`` commit with it or not
        at all.
        """
        with self._transaction() as db:
            retired = db.execute(
                b"UPDATE refresh_tokens SET state = %s, rotated_at = %s "
                b"WHERE token_hash = %s AND state = %s AND expires_at > %s RETURNING *",
                (RefreshState.ROTATED.value, now, token_hash, RefreshState.ACTIVE.value, now),
            ).fetchone()
            if retired is not None:
                db.execute(
                    b"INSERT INTO refresh_tokens VALUES (%s, %s, %s, %s, %s, %s, NULL)",
                    (
                        successor.token_hash,
                        successor.grant_id,
                        successor.client_id,
                        successor.issued_at,
                        successor.expires_at,
                        RefreshState.ACTIVE.value,
                    ),
                )
                db.execute(_REVOKE_LIVE_ACCESS.encode(), (successor.grant_id,))
                if access_token is not None:
                    db.execute(_INSERT_ACCESS.encode(), _access_row(access_token))
                return RefreshRotation(True, refresh_from(retired))
            row = db.execute(b"SELECT * FROM refresh_tokens WHERE token_hash = %s", (token_hash,)).fetchone()
            return RefreshRotation(False, refresh_from(row) if row else None)

    def save_access_token(self, record: AccessTokenRecord) -> None:
        """Remember an access token issued in a grant, so that revoking the grant reaches it."""
        self._run(_INSERT_ACCESS, *_access_row(record))

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """The access token record, or None."""
        row = self._one("SELECT * FROM access_tokens WHERE jti = %s", jti)
        if row is None:
            return None
        return AccessTokenRecord(
            row["jti"], row["client_id"], row["grant_id"], row["expires_at"], row["revoked"]
        )

    def revoke_access_token(self, record: AccessTokenRecord) -> None:
        """Revoke one access token: mark its record, creating it when none was saved (no grant)."""
        self._run(
            "INSERT INTO access_tokens VALUES (%s, %s, %s, %s, TRUE) "
            "ON CONFLICT (jti) DO UPDATE SET revoked = TRUE",
            record.jti,
            record.client_id,
            record.grant_id,
            record.expires_at,
        )

    # signing keys
    def list_signing_keys(self) -> Sequence[SigningKeyRecord]:
        """Every stored signing key, oldest first."""
        return tuple(
            SigningKeyRecord(
                r["kid"],
                r["alg"],
                r["status"],
                MappingProxyType(r["public_jwk"]),
                bytes(r["sealed_private"]),
                r["created_at"],
            )
            for r in self._all("SELECT * FROM signing_keys ORDER BY created_at")
        )

    def replace_signing_keys(self, expected_current: str | None, keys: Sequence[SigningKeyRecord]) -> bool:
        """Swap the whole key set if the current ``kid`` is still ``expected_current``.

        The table lock makes the check and the swap one step even when there is no row to lock.
        """
        with self._transaction() as db:
            db.execute(b"LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            row = db.execute(b"SELECT kid FROM signing_keys WHERE status = 'current'").fetchone()
            if (row["kid"] if row else None) != expected_current:
                return False
            db.execute(b"DELETE FROM signing_keys")
            for k in keys:
                db.execute(
                    b"INSERT INTO signing_keys VALUES (%s, %s, %s, %s, %s, %s)",
                    (k.kid, k.alg, k.status, _json(dict(k.public_jwk)), k.sealed_private, k.created_at),
                )
        return True

    # housekeeping
    def purge_expired(self, now: float) -> int:
        """Delete expired rows. Refresh tokens (and so reuse markers) live as long as their grant."""
        statements: tuple[tuple[bytes, tuple[Any, ...]], ...] = (
            (b"DELETE FROM codes WHERE expires_at <= %s", (now - 3600,)),
            (
                b"DELETE FROM refresh_tokens WHERE grant_id IN "
                b"(SELECT grant_id FROM grants WHERE expires_at <= %s)",
                (now,),
            ),
            (b"DELETE FROM access_tokens WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM grants WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM sessions WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM pending WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM one_time_codes WHERE expires_at <= %s", (now - 86400,)),
            (b"DELETE FROM seen_jti WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM mail_queue WHERE expires_at <= %s", (now - 86400,)),
            (b"DELETE FROM passkey_challenges WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM upstream_logins WHERE expires_at <= %s", (now,)),
            (b"DELETE FROM upstream_sessions WHERE expires_at <= %s", (now,)),
            (b'DELETE FROM rate_hits WHERE "window" < %s', (int(now // 60) - 60,)),
        )
        removed = 0
        with self._transaction() as db:
            for sql, args in statements:
                removed += db.execute(sql, args).rowcount
        return removed
