"""The PostgreSQL sign-in tables: sessions, pending requests, one-time codes, ``jti``, rates, consent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .postgres_base import PostgresBase
from .records import Consent, OneTimeCode, PendingRequest, Session
from .rows import session_from

__all__ = ["PostgresSignIn", "consent_from"]


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _one_time_code(row: Mapping[str, Any]) -> OneTimeCode:
    return OneTimeCode(
        row["challenge_hash"],
        row["email"],
        row["code_mac"],
        row["created_at"],
        row["expires_at"],
        row["attempts"],
        row["consumed"],
    )


def consent_from(row: Mapping[str, Any]) -> Consent:
    """A consent from its row."""
    return Consent(
        row["user_id"], row["client_id"], tuple(row["scopes"]), row["granted_at"], row["updated_at"]
    )


def _returned(row: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The row an upsert's ``RETURNING`` gave (an upsert always gives one)."""
    if row is None:
        raise RuntimeError("an upsert returned no row")
    return row


class PostgresSignIn(PostgresBase):
    """Sessions, sign-in artefacts, rate counters and consents, each race decided by one statement."""

    def create_session(self, session: Session) -> None:
        """Store a new session."""
        self._run(
            "INSERT INTO sessions (session_hash, user_id, auth_time, expires_at, amr, method, user_agent) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            session.session_hash,
            session.user_id,
            session.auth_time,
            session.expires_at,
            " ".join(session.amr),
            session.method,
            session.user_agent,
        )

    def get_session(self, session_hash: str, now: float) -> Session | None:
        """The live session, or None when unknown, revoked or expired."""
        row = self._one(
            "SELECT * FROM sessions WHERE session_hash = %s AND NOT revoked AND expires_at > %s",
            session_hash,
            now,
        )
        return session_from(row) if row is not None else None

    def end_session(self, session_hash: str) -> None:
        """Revoke a session and every grant (and so every token) made under it, in one transaction."""
        with self._transaction() as db:
            db.execute(b"UPDATE sessions SET revoked = TRUE WHERE session_hash = %s", (session_hash,))
            db.execute(
                b"WITH gone AS (UPDATE grants SET revoked = TRUE WHERE session_hash = %s RETURNING grant_id) "
                b"UPDATE access_tokens SET revoked = TRUE "
                b"WHERE grant_id IN (SELECT grant_id FROM gone) AND NOT revoked",
                (session_hash,),
            )

    def save_pending(self, request: PendingRequest) -> None:
        """Store an authorization request that waits for sign-in."""
        self._run(
            "INSERT INTO pending VALUES (%s, %s, %s, %s, %s)",
            request.request_hash,
            _json(dict(request.params)),
            request.created_at,
            request.expires_at,
            request.force_login,
        )

    def get_pending(self, request_hash: str, now: float) -> PendingRequest | None:
        """The pending request, or None when unknown or expired."""
        row = self._one(
            "SELECT * FROM pending WHERE request_hash = %s AND expires_at > %s", request_hash, now
        )
        if row is None:
            return None
        return PendingRequest(
            row["request_hash"], row["body"], row["created_at"], row["expires_at"], row["force_login"]
        )

    def delete_pending(self, request_hash: str) -> None:
        """Forget a pending request."""
        self._run("DELETE FROM pending WHERE request_hash = %s", request_hash)

    def save_one_time_code(self, code: OneTimeCode) -> None:
        """Store a new one-time code challenge."""
        self._run(
            "INSERT INTO one_time_codes VALUES (%s, %s, %s, %s, %s, 0, FALSE)",
            code.challenge_hash,
            code.email.lower(),
            code.code_mac,
            code.created_at,
            code.expires_at,
        )

    def attempt_one_time_code(self, challenge_hash: str, max_attempts: int, now: float) -> OneTimeCode | None:
        """Count one attempt in one conditional statement; None once dead, used or expired."""
        row = self._one(
            "UPDATE one_time_codes SET attempts = attempts + 1 WHERE challenge_hash = %s "
            "AND attempts < %s AND NOT consumed AND expires_at > %s RETURNING *",
            challenge_hash,
            max_attempts,
            now,
        )
        return _one_time_code(row) if row else None

    def consume_one_time_code(self, challenge_hash: str, now: float) -> bool:
        """Mark the challenge used; True for exactly one caller."""
        return (
            self._run(
                "UPDATE one_time_codes SET consumed = TRUE WHERE challenge_hash = %s AND NOT consumed "
                "AND expires_at > %s",
                challenge_hash,
                now,
            )
            == 1
        )

    def remember_jti(self, issuer: str, jti: str, expires_at: float, now: float) -> bool:
        """Record a one-time ``jti``; False when it is already known and not yet expired.

        One upsert: a new row, or an expired one taken over, returns a row; a live one does not.
        """
        row = self._one(
            "INSERT INTO seen_jti VALUES (%s, %s, %s) ON CONFLICT (issuer, jti) DO UPDATE "
            "SET expires_at = excluded.expires_at WHERE seen_jti.expires_at <= %s RETURNING 1 AS fresh",
            issuer,
            jti,
            expires_at,
            now,
        )
        return row is not None

    # rate limits
    def count_hits(self, key: str, window: int) -> int:
        """How many hits ``key`` has in window ``window``."""
        row = self._one('SELECT hits FROM rate_hits WHERE key = %s AND "window" = %s', key, window)
        return int(row["hits"]) if row else 0

    def add_hit(self, key: str, window: int) -> int:
        """Count one hit atomically (one upsert); the new count."""
        row = self._one(
            'INSERT INTO rate_hits VALUES (%s, %s, 1) ON CONFLICT (key, "window") '
            "DO UPDATE SET hits = rate_hits.hits + 1 RETURNING hits",
            key,
            window,
        )
        return int(_returned(row)["hits"])

    # consents
    def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        """What ``user_id`` has allowed ``client_id``, or None."""
        row = self._one("SELECT * FROM consents WHERE user_id = %s AND client_id = %s", user_id, client_id)
        return consent_from(row) if row else None

    def grant_consent(self, user_id: str, client_id: str, scopes: Sequence[str], now: float) -> Consent:
        """Add ``scopes`` to the consent (created if absent) in one upsert, keeping their order."""
        row = self._one(
            "INSERT INTO consents VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, client_id) DO UPDATE "
            "SET updated_at = excluded.updated_at, scopes = consents.scopes || COALESCE(("
            "  SELECT jsonb_agg(s ORDER BY n) FROM jsonb_array_elements_text(excluded.scopes) "
            "  WITH ORDINALITY AS added(s, n) WHERE NOT consents.scopes ? s), '[]'::jsonb) "
            "RETURNING *",
            user_id,
            client_id,
            _json(list(dict.fromkeys(scopes))),
            now,
            now,
        )
        return consent_from(_returned(row))

    def revoke_consent(self, user_id: str, client_id: str) -> None:
        """Delete the consent and revoke the client's grants for the user, with their tokens."""
        with self._transaction() as db:
            db.execute(b"DELETE FROM consents WHERE user_id = %s AND client_id = %s", (user_id, client_id))
            db.execute(
                b"WITH gone AS (UPDATE grants SET revoked = TRUE "
                b"WHERE user_id = %s AND client_id = %s AND NOT revoked RETURNING grant_id) "
                b"UPDATE access_tokens SET revoked = TRUE "
                b"WHERE grant_id IN (SELECT grant_id FROM gone) AND NOT revoked",
                (user_id, client_id),
            )
