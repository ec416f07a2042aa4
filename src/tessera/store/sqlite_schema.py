"""The SQLite store's schema and the conversions between rows and records."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .records import ClientRecord, User

__all__ = [
    "ADDED_COLUMNS",
    "SCHEMA",
    "add_missing_columns",
    "client_from",
    "dump",
    "user_from",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_phones (phone TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at REAL NOT NULL,
    consumed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT PRIMARY KEY, body TEXT, session_hash TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS grants_by_session ON grants (session_hash);
CREATE INDEX IF NOT EXISTS grants_by_user ON grants (json_extract(body, '$.user_id'));
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, client_id TEXT NOT NULL,
    issued_at REAL NOT NULL, expires_at REAL NOT NULL, state TEXT NOT NULL, rotated_at REAL);
CREATE INDEX IF NOT EXISTS refresh_by_grant ON refresh_tokens (grant_id);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY, client_id TEXT NOT NULL, grant_id TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS access_by_grant ON access_tokens (grant_id);
CREATE INDEX IF NOT EXISTS live_access_by_grant ON access_tokens (grant_id) WHERE revoked = 0;
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, auth_time INTEGER NOT NULL,
    expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, amr TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT '', user_agent TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id, auth_time);
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
CREATE TABLE IF NOT EXISTS mail_queue (
    mail_id TEXT PRIMARY KEY, sealed BLOB NOT NULL, due_at REAL NOT NULL, expires_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS mail_by_due ON mail_queue (due_at);
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL, granted_at REAL NOT NULL,
    updated_at REAL NOT NULL, PRIMARY KEY (user_id, client_id));
CREATE TABLE IF NOT EXISTS passkeys (
    credential_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, public_key BLOB NOT NULL,
    sign_count INTEGER NOT NULL, transports TEXT NOT NULL, backup_eligible INTEGER NOT NULL,
    backed_up INTEGER NOT NULL, name TEXT NOT NULL, created_at REAL NOT NULL, last_used_at REAL);
CREATE INDEX IF NOT EXISTS passkeys_by_user ON passkeys (user_id, created_at);
CREATE TABLE IF NOT EXISTS passkey_challenges (
    challenge_hash TEXT PRIMARY KEY, purpose TEXT NOT NULL, binding_hash TEXT NOT NULL, user_id TEXT,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS totp_factors (
    user_id TEXT PRIMARY KEY, sealed_secret BLOB NOT NULL, confirmed INTEGER NOT NULL,
    last_step INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS totp_recovery_codes (
    user_id TEXT NOT NULL, code_hash TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, code_hash));
CREATE TABLE IF NOT EXISTS upstream_links (
    upstream_id TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL,
    linked_at REAL NOT NULL, email TEXT NOT NULL, PRIMARY KEY (upstream_id, subject));
CREATE INDEX IF NOT EXISTS upstream_links_by_user ON upstream_links (user_id);
CREATE TABLE IF NOT EXISTS upstream_tokens (
    upstream_id TEXT NOT NULL, subject TEXT NOT NULL, sealed BLOB NOT NULL,
    PRIMARY KEY (upstream_id, subject));
CREATE TABLE IF NOT EXISTS upstream_logins (
    state_hash TEXT PRIMARY KEY, upstream_id TEXT NOT NULL, binding_hash TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL, linking_user_id TEXT);
CREATE TABLE IF NOT EXISTS upstream_sessions (
    session_hash TEXT PRIMARY KEY, upstream_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY, alg TEXT NOT NULL, status TEXT NOT NULL, public_jwk TEXT NOT NULL,
    sealed_private BLOB NOT NULL, created_at REAL NOT NULL);
"""


# Columns added to a table after files with the table existed: (table, column, declaration).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sessions", "amr", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "method", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "user_agent", "TEXT NOT NULL DEFAULT ''"),
)


def add_missing_columns(db: sqlite3.Connection) -> None:
    """Add the :data:`ADDED_COLUMNS` a file made by an older Tessera lacks, in one write transaction
    (so two processes opening the file at once add each column once)."""

    def missing() -> list[tuple[str, str, str]]:
        present = {
            (table, row["name"])
            for table in {t for t, _, _ in ADDED_COLUMNS}
            for row in db.execute(f"PRAGMA table_info({table})")
        }
        return [added for added in ADDED_COLUMNS if added[:2] not in present]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for table, column, declaration in missing():
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def dump(value: Any) -> str:
    """Canonical compact JSON for a stored body."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def client_from(body: str) -> ClientRecord:
    """A client from its stored JSON body."""
    data = json.loads(body)
    for name in ("redirect_uris", "auth_methods", "grant_types", "scopes", "post_logout_redirect_uris"):
        data[name] = tuple(data[name])
    return ClientRecord(**data)


def user_from(body: str) -> User:
    """A user from its stored JSON body."""
    data = json.loads(body)
    data["roles"] = tuple(data["roles"])
    return User(**data)
