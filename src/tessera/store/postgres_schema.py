"""The PostgreSQL store's schema as numbered migrations, applied by ``tessera store migrate``.

``tessera_schema`` holds the version applied. :func:`migrate` takes a transaction-scoped
advisory lock, so two deployments migrating at once apply each step once, and runs every
pending step in that one transaction: a failed step leaves the schema as it was. A step may be
preceded by a check of the data that refuses it (:class:`SharedPhoneNumbers` before migration 6,
the unique phone index): the data are never dropped to make a step pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import SharedPhoneNumbers

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIGRATIONS", "migrate", "schema_version"]

_LOCK = 0x7E55E4A  # pg_advisory_xact_lock key of tessera's migrations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "tables for clients, users, codes, grants, tokens, sessions, sign-in, consents, rate limits, keys",
        """
CREATE TABLE clients (client_id TEXT PRIMARY KEY, body JSONB NOT NULL);
CREATE TABLE users (user_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, body JSONB NOT NULL);
CREATE TABLE codes (
    code_hash TEXT PRIMARY KEY, body JSONB NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
    consumed BOOLEAN NOT NULL DEFAULT FALSE);
CREATE INDEX codes_by_expiry ON codes (expires_at);
CREATE TABLE grants (
    grant_id TEXT PRIMARY KEY, body JSONB, user_id TEXT, client_id TEXT, session_hash TEXT,
    expires_at DOUBLE PRECISION NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE);
CREATE INDEX grants_by_session ON grants (session_hash) WHERE session_hash IS NOT NULL;
CREATE INDEX grants_by_user_client ON grants (user_id, client_id) WHERE NOT revoked;
CREATE INDEX grants_by_expiry ON grants (expires_at);
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, client_id TEXT NOT NULL,
    issued_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL,
    rotated_at DOUBLE PRECISION);
CREATE INDEX refresh_by_grant ON refresh_tokens (grant_id);
CREATE TABLE access_tokens (
    jti TEXT PRIMARY KEY, client_id TEXT NOT NULL, grant_id TEXT,
    expires_at DOUBLE PRECISION NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE);
CREATE INDEX live_access_by_grant ON access_tokens (grant_id) WHERE NOT revoked;
CREATE INDEX access_by_expiry ON access_tokens (expires_at);
CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, auth_time BIGINT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE pending (
    request_hash TEXT PRIMARY KEY, body JSONB NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL, force_login BOOLEAN NOT NULL);
CREATE TABLE one_time_codes (
    challenge_hash TEXT PRIMARY KEY, email TEXT NOT NULL, code_mac TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, consumed BOOLEAN NOT NULL DEFAULT FALSE);
CREATE INDEX otc_by_email ON one_time_codes (email, created_at);
CREATE TABLE seen_jti (
    issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (issuer, jti));
CREATE TABLE rate_hits (
    key TEXT NOT NULL, "window" BIGINT NOT NULL, hits BIGINT NOT NULL, PRIMARY KEY (key, "window"));
CREATE TABLE consents (
    user_id TEXT NOT NULL, client_id TEXT NOT NULL, scopes JSONB NOT NULL,
    granted_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_id, client_id));
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, status TEXT NOT NULL, public_jwk JSONB NOT NULL,
    sealed_private BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL);
""",
    ),
    (
        2,
        "the mail queue",
        """
CREATE TABLE mail_queue (
    mail_id TEXT PRIMARY KEY, sealed BYTEA NOT NULL, due_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX mail_by_due ON mail_queue (due_at);
""",
    ),
    (
        3,
        "passkeys, their challenges, TOTP factors and recovery codes",
        """
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, public_key BYTEA NOT NULL,
    sign_count BIGINT NOT NULL, transports JSONB NOT NULL, backup_eligible BOOLEAN NOT NULL,
    backed_up BOOLEAN NOT NULL, name TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    last_used_at DOUBLE PRECISION);
CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);
CREATE TABLE passkey_challenges (
    challenge_hash TEXT PRIMARY KEY, purpose TEXT NOT NULL, binding_hash TEXT NOT NULL, user_id TEXT,
    expires_at DOUBLE PRECISION NOT NULL);
CREATE INDEX passkey_challenges_by_expiry ON passkey_challenges (expires_at);
CREATE TABLE totp_factors (
    user_id TEXT PRIMARY KEY, sealed_secret BYTEA NOT NULL, confirmed BOOLEAN NOT NULL,
    last_step BIGINT NOT NULL, created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE totp_recovery_codes (
    user_id TEXT NOT NULL, code_hash TEXT NOT NULL, used BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, code_hash));
""",
    ),
    (
        4,
        "the authentication methods (amr) of each session",
        """
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
""",
    ),
    (
        5,
        "federation: linked upstream identities (and their sealed tokens), sign-ins in flight, sessions",
        """
CREATE TABLE upstream_links (
    upstream_id TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL,
    linked_at DOUBLE PRECISION NOT NULL, email TEXT NOT NULL, sealed_tokens BYTEA,
    PRIMARY KEY (upstream_id, subject));
CREATE INDEX upstream_links_by_user ON upstream_links (user_id, linked_at);
CREATE TABLE upstream_logins (
    state_hash TEXT PRIMARY KEY, upstream_id TEXT NOT NULL, binding_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, linking_user_id TEXT);
CREATE INDEX upstream_logins_by_expiry ON upstream_logins (expires_at);
CREATE TABLE upstream_sessions (
    session_hash TEXT PRIMARY KEY, upstream_id TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL);
CREATE INDEX upstream_sessions_by_expiry ON upstream_sessions (expires_at);
""",
    ),
    (
        6,
        "sessions say how they began and in which browser; a user's sessions and grants by user id",
        """
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT '',
    ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_user ON sessions (user_id, auth_time);
CREATE INDEX grants_by_user ON grants (user_id);
""",
    ),
    (
        7,
        "phone numbers unique among users (index users_by_phone)",
        """
CREATE UNIQUE INDEX users_by_phone ON users ((body->>'phone')) WHERE body->>'phone' <> '';
""",
    ),
)


def _refuse_shared_phone_numbers(db: psycopg.Connection[dict[str, Any]]) -> None:
    """Before migration 6: users sharing a number are named, and nothing is dropped or changed."""
    rows = db.execute(
        b"SELECT body->>'phone' AS phone, array_agg(user_id ORDER BY user_id) AS holders FROM users "
        b"WHERE body->>'phone' <> '' GROUP BY 1 HAVING count(*) > 1"
    ).fetchall()
    if rows:
        raise SharedPhoneNumbers({row["phone"]: row["holders"] for row in rows})


_BEFORE: dict[int, Callable[[psycopg.Connection[dict[str, Any]]], None]] = {7: _refuse_shared_phone_numbers}


def schema_version(db: psycopg.Connection[dict[str, Any]]) -> int:
    """The migration version applied to the database (0 when none)."""
    row = db.execute("SELECT to_regclass('tessera_schema') IS NOT NULL AS present").fetchone()
    if row is None or not row["present"]:
        return 0
    found = db.execute("SELECT version FROM tessera_schema").fetchone()
    return int(found["version"]) if found else 0


def migrate(db: psycopg.Connection[dict[str, Any]]) -> list[str]:
    """Apply every pending migration in one transaction; one line per step taken."""
    done: list[str] = []
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        db.execute("CREATE TABLE IF NOT EXISTS tessera_schema (version INTEGER NOT NULL)")
        current = schema_version(db)
        for version, description, sql in MIGRATIONS:
            if version <= current:
                continue
            check = _BEFORE.get(version)
            if check is not None:
                check(db)
            db.execute(sql.encode())
            done.append(f"applied migration {version}: {description}")
            current = version
        db.execute("DELETE FROM tessera_schema")
        db.execute("INSERT INTO tessera_schema VALUES (%s)", (current,))
    if not done:
        done.append(f"schema is up to date (version {current})")
    return done
