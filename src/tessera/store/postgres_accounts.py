"""The PostgreSQL account queries: a user's sessions, consents and grants, and erasing a user."""

from __future__ import annotations

from collections.abc import Sequence

from .postgres_base import PostgresBase
from .postgres_signin import consent_from
from .records import Consent, Grant, Session, grant_from_body
from .rows import session_from

__all__ = ["PostgresAccounts"]

# What goes with a user, each keyed by the user id.
_OWNED_ROWS = (
    b"DELETE FROM consents WHERE user_id = %s",
    b"DELETE FROM passkeys WHERE user_id = %s",
    b"DELETE FROM passkey_challenges WHERE user_id = %s",
    b"DELETE FROM totp_factors WHERE user_id = %s",
    b"DELETE FROM totp_recovery_codes WHERE user_id = %s",
    b"DELETE FROM codes WHERE body->>'user_id' = %s",
    b"DELETE FROM upstream_links WHERE user_id = %s",
    b"DELETE FROM upstream_logins WHERE linking_user_id = %s",
)


class PostgresAccounts(PostgresBase):
    """A user's own rows, found through indexes on the user id, and erased in one transaction."""

    def list_sessions(self, user_id: str, now: float) -> Sequence[Session]:
        """The user's live sessions, newest first (index ``sessions_by_user``)."""
        rows = self._all(
            "SELECT * FROM sessions WHERE user_id = %s AND NOT revoked AND expires_at > %s "
            "ORDER BY auth_time DESC, session_hash",
            user_id,
            now,
        )
        return tuple(session_from(row) for row in rows)

    def list_consents(self, user_id: str) -> Sequence[Consent]:
        """Every consent the user has given, by client id."""
        rows = self._all("SELECT * FROM consents WHERE user_id = %s ORDER BY client_id", user_id)
        return tuple(consent_from(row) for row in rows)

    def list_grants(self, user_id: str, now: float) -> Sequence[Grant]:
        """The user's live grants, newest first."""
        rows = self._all(
            "SELECT body FROM grants WHERE user_id = %s AND NOT revoked AND expires_at > %s "
            "AND body IS NOT NULL",
            user_id,
            now,
        )
        grants = (grant_from_body(row["body"]) for row in rows)
        return tuple(sorted(grants, key=lambda g: (-g.created_at, g.grant_id)))

    def erase_user(self, user_id: str, now: float) -> bool:
        """Delete the user and everything of theirs in one transaction; False when there was none.

        The user's row is locked first, so a concurrent erasure waits and then finds nothing.
        Grants stay as revocation markers (no body, no user); their access tokens are marked
        revoked and their refresh tokens deleted.
        """
        with self._transaction() as db:
            user = db.execute(b"SELECT body FROM users WHERE user_id = %s FOR UPDATE", (user_id,)).fetchone()
            if user is None:
                return False
            addresses = [str(user["body"]["email"]).lower()]
            if user["body"].get("phone"):
                addresses.append(f"tel:{user['body']['phone']}")
            db.execute(b"DELETE FROM one_time_codes WHERE email = ANY(%s)", (addresses,))
            db.execute(
                b"DELETE FROM upstream_sessions WHERE session_hash IN "
                b"(SELECT session_hash FROM sessions WHERE user_id = %s)",
                (user_id,),
            )
            db.execute(
                b"WITH gone AS (UPDATE grants SET body = NULL, user_id = NULL, session_hash = NULL, "
                b"revoked = TRUE WHERE user_id = %s OR session_hash IN "
                b"(SELECT session_hash FROM sessions WHERE user_id = %s) RETURNING grant_id), "
                b"tokens AS (DELETE FROM refresh_tokens WHERE grant_id IN (SELECT grant_id FROM gone)) "
                b"UPDATE access_tokens SET revoked = TRUE "
                b"WHERE grant_id IN (SELECT grant_id FROM gone) AND NOT revoked",
                (user_id, user_id),
            )
            db.execute(b"DELETE FROM sessions WHERE user_id = %s", (user_id,))
            for statement in _OWNED_ROWS:
                db.execute(statement, (user_id,))
            db.execute(b"DELETE FROM users WHERE user_id = %s", (user_id,))
        return True
