"""The SQLite passkey tables: users' WebAuthn credentials and their ceremonies' challenges."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from .records import PasskeyChallenge, PasskeyCredential
from .sqlite_signin import SQLiteBase

__all__ = ["PasskeyTables"]


def _credential_from(row: sqlite3.Row) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id=row["credential_id"],
        user_id=row["user_id"],
        public_key=bytes(row["public_key"]),
        sign_count=row["sign_count"],
        transports=tuple(json.loads(row["transports"])),
        backup_eligible=bool(row["backup_eligible"]),
        backed_up=bool(row["backed_up"]),
        name=row["name"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


class PasskeyTables(SQLiteBase):
    """Credentials keyed by credential id; challenges by their hash, used up by a conditional delete."""

    def save_passkey_challenge(self, challenge: PasskeyChallenge) -> None:
        """Store a new challenge."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO passkey_challenges VALUES (?, ?, ?, ?, ?)",
                (
                    challenge.challenge_hash,
                    challenge.purpose,
                    challenge.binding_hash,
                    challenge.user_id,
                    challenge.expires_at,
                ),
            )

    def consume_passkey_challenge(self, challenge_hash: str, now: float) -> PasskeyChallenge | None:
        """Delete the challenge and return it, for exactly one caller and only before it expires."""
        with self._transaction() as db:
            row = db.execute(
                "DELETE FROM passkey_challenges WHERE challenge_hash = ? RETURNING *", (challenge_hash,)
            ).fetchone()
        if row is None or row["expires_at"] <= now:
            return None
        return PasskeyChallenge(
            row["challenge_hash"], row["purpose"], row["binding_hash"], row["user_id"], row["expires_at"]
        )

    def add_passkey(self, credential: PasskeyCredential) -> bool:
        """Store a new credential; False when the credential id is already registered."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO passkeys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    credential.credential_id,
                    credential.user_id,
                    credential.public_key,
                    credential.sign_count,
                    json.dumps(list(credential.transports)),
                    int(credential.backup_eligible),
                    int(credential.backed_up),
                    credential.name,
                    credential.created_at,
                    credential.last_used_at,
                ),
            )
            return cursor.rowcount == 1

    def get_passkey(self, credential_id: str) -> PasskeyCredential | None:
        """The credential, or None."""
        row = self._one("SELECT * FROM passkeys WHERE credential_id = ?", credential_id)
        return _credential_from(row) if row else None

    def list_passkeys(self, user_id: str) -> Sequence[PasskeyCredential]:
        """The user's credentials, oldest first."""
        rows = (
            self._connection()
            .execute(
                "SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, credential_id", (user_id,)
            )
            .fetchall()
        )
        return tuple(_credential_from(r) for r in rows)

    def record_passkey_use(
        self, credential_id: str, expected_sign_count: int, sign_count: int, backed_up: bool, now: float
    ) -> bool:
        """Store the new counter and BS flag if the counter is still ``expected_sign_count``."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE passkeys SET sign_count = ?, backed_up = ?, last_used_at = ? "
                "WHERE credential_id = ? AND sign_count = ?",
                (sign_count, int(backed_up), now, credential_id, expected_sign_count),
            )
            return cursor.rowcount == 1

    def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool:
        """Rename one of the user's credentials; False when the user has no such credential."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE passkeys SET name = ? WHERE credential_id = ? AND user_id = ?",
                (name, credential_id, user_id),
            )
            return cursor.rowcount == 1

    def remove_passkey(self, user_id: str, credential_id: str, *, allow_last: bool) -> bool:
        """Delete one of the user's credentials; unless ``allow_last``, only while another remains."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM passkeys WHERE credential_id = ? AND user_id = ? AND "
                "(? OR (SELECT COUNT(*) FROM passkeys WHERE user_id = ?) > 1)",
                (credential_id, user_id, int(allow_last), user_id),
            )
            return cursor.rowcount == 1
