"""The SQLite consent table: what each user allowed each third-party client."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from .records import Consent
from .sqlite_signin import SQLiteBase, revoke_grant_rows

__all__ = ["ConsentTable", "consent_from"]


def consent_from(row: sqlite3.Row) -> Consent:
    """A consent from its row."""
    return Consent(
        user_id=row["user_id"],
        client_id=row["client_id"],
        scopes=tuple(json.loads(row["scopes"])),
        granted_at=row["granted_at"],
        updated_at=row["updated_at"],
    )


class ConsentTable(SQLiteBase):
    """Consent grants, keyed by (user id, client id): both opaque identifiers, no secret in them."""

    def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        """What ``user_id`` has allowed ``client_id``, or None."""
        row = self._one("SELECT * FROM consents WHERE user_id = ? AND client_id = ?", user_id, client_id)
        return consent_from(row) if row else None

    def grant_consent(self, user_id: str, client_id: str, scopes: Sequence[str], now: float) -> Consent:
        """Add ``scopes`` to the consent (created if absent) in one transaction; the result."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?", (user_id, client_id)
            ).fetchone()
            known: list[str] = json.loads(row["scopes"]) if row else []
            merged = known + [s for s in dict.fromkeys(scopes) if s not in known]
            db.execute(
                "INSERT INTO consents VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, client_id) "
                "DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at",
                (user_id, client_id, json.dumps(merged), now, now),
            )
            stored = db.execute(
                "SELECT * FROM consents WHERE user_id = ? AND client_id = ?", (user_id, client_id)
            ).fetchone()
        return consent_from(stored)

    def revoke_consent(self, user_id: str, client_id: str) -> None:
        """Delete the consent and revoke the client's grants for the user, with their tokens."""
        with self._transaction() as db:
            db.execute("DELETE FROM consents WHERE user_id = ? AND client_id = ?", (user_id, client_id))
            grant_ids = [
                r["grant_id"]
                for r in db.execute(
                    "SELECT grant_id FROM grants WHERE revoked = 0 AND "
                    "json_extract(body, '$.user_id') = ? AND json_extract(body, '$.client_id') = ?",
                    (user_id, client_id),
                )
            ]
            for grant_id in grant_ids:
                revoke_grant_rows(db, grant_id)
