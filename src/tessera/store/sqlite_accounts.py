"""The SQLite account queries: a user's sessions, consents and grants, and erasing a user."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .records import Consent, Grant, Session, grant_from_body
from .rows import session_from
from .sqlite_consent import consent_from
from .sqlite_signin import SQLiteBase, revoke_access_tokens_of

__all__ = ["AccountTables"]

# What goes with a user, each keyed by the user id (``?`` is the user id).
_OWNED_ROWS = (
    "DELETE FROM consents WHERE user_id = ?",
    "DELETE FROM passkeys WHERE user_id = ?",
    "DELETE FROM passkey_challenges WHERE user_id = ?",
    "DELETE FROM totp_factors WHERE user_id = ?",
    "DELETE FROM totp_recovery_codes WHERE user_id = ?",
    "DELETE FROM upstream_links WHERE user_id = ?",
    "DELETE FROM upstream_logins WHERE linking_user_id = ?",
    "DELETE FROM codes WHERE json_extract(body, '$.user_id') = ?",
    "DELETE FROM user_phones WHERE user_id = ?",
)


class AccountTables(SQLiteBase):
    """A user's own artefacts, listed through indexes by user id, and erased in one transaction."""

    def list_sessions(self, user_id: str, now: float) -> Sequence[Session]:
        """The user's live sessions, newest first (index ``sessions_by_user``)."""
        rows = (
            self._connection()
            .execute(
                "SELECT * FROM sessions WHERE user_id = ? AND revoked = 0 AND expires_at > ? "
                "ORDER BY auth_time DESC, session_hash",
                (user_id, now),
            )
            .fetchall()
        )
        return tuple(session_from(row) for row in rows)

    def list_consents(self, user_id: str) -> Sequence[Consent]:
        """Every consent the user has given, by client id."""
        rows = (
            self._connection()
            .execute("SELECT * FROM consents WHERE user_id = ? ORDER BY client_id", (user_id,))
            .fetchall()
        )
        return tuple(consent_from(row) for row in rows)

    def list_grants(self, user_id: str, now: float) -> Sequence[Grant]:
        """The user's live grants, newest first (index ``grants_by_user``)."""
        rows = (
            self._connection()
            .execute(
                "SELECT body FROM grants WHERE json_extract(body, '$.user_id') = ? AND revoked = 0 "
                "AND expires_at > ?",
                (user_id, now),
            )
            .fetchall()
        )
        grants = (grant_from_body(json.loads(row["body"])) for row in rows)
        return tuple(sorted(grants, key=lambda g: (-g.created_at, g.grant_id)))

    def erase_user(self, user_id: str, now: float) -> bool:
        """Delete the user and everything of theirs in one transaction; False when there was none.

        Grants stay as revocation markers (no body, so no user); their access tokens are marked
        revoked and their refresh tokens deleted.
        """
        with self._transaction() as db:
            row = db.execute("SELECT body FROM users WHERE user_id = ?", (user_id,)).fetchone()
            if row is None:
                return False
            user = json.loads(row["body"])
            addresses = [str(user["email"]).lower()]
            if user.get("phone"):
                addresses.append(f"tel:{user['phone']}")
            db.executemany(
                "DELETE FROM one_time_codes WHERE email = ?", [(address,) for address in addresses]
            )
            db.execute(
                "DELETE FROM upstream_sessions WHERE session_hash IN "
                "(SELECT session_hash FROM sessions WHERE user_id = ?)",
                (user_id,),
            )
            grant_ids = [
                r["grant_id"]
                for r in db.execute(
                    "SELECT grant_id FROM grants WHERE json_extract(body, '$.user_id') = ? "
                    "OR session_hash IN (SELECT session_hash FROM sessions WHERE user_id = ?)",
                    (user_id, user_id),
                )
            ]
            for grant_id in grant_ids:
                db.execute(
                    "UPDATE grants SET body = NULL, session_hash = NULL, revoked = 1 WHERE grant_id = ?",
                    (grant_id,),
                )
                db.execute("DELETE FROM refresh_tokens WHERE grant_id = ?", (grant_id,))
                revoke_access_tokens_of(db, grant_id)
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            for statement in _OWNED_ROWS:
                db.execute(statement, (user_id,))
            db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        return True
