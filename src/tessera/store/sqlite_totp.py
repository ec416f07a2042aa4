"""The SQLite TOTP tables: each user's sealed authenticator-app secret and recovery-code MACs."""

from __future__ import annotations

from collections.abc import Sequence

from .records import TotpFactor
from .sqlite_signin import SQLiteBase

__all__ = ["TotpTables"]


class TotpTables(SQLiteBase):
    """One factor per user; steps and recovery codes used up by conditional updates."""

    def put_totp(self, factor: TotpFactor) -> None:
        """Create or replace the user's factor; its old recovery codes go with the old factor."""
        with self._transaction() as db:
            db.execute("DELETE FROM totp_recovery_codes WHERE user_id = ?", (factor.user_id,))
            db.execute(
                "INSERT OR REPLACE INTO totp_factors VALUES (?, ?, ?, ?, ?)",
                (
                    factor.user_id,
                    factor.sealed_secret,
                    int(factor.confirmed),
                    factor.last_step,
                    factor.created_at,
                ),
            )

    def get_totp(self, user_id: str) -> TotpFactor | None:
        """The user's factor, or None."""
        row = self._one("SELECT * FROM totp_factors WHERE user_id = ?", user_id)
        if row is None:
            return None
        return TotpFactor(
            row["user_id"],
            bytes(row["sealed_secret"]),
            bool(row["confirmed"]),
            row["last_step"],
            row["created_at"],
        )

    def confirm_totp(self, user_id: str, step: int, recovery_hashes: Sequence[str]) -> bool:
        """Confirm the unconfirmed factor at ``step`` and store its recovery codes, in one transaction."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE totp_factors SET confirmed = 1, last_step = ? "
                "WHERE user_id = ? AND confirmed = 0 AND last_step < ?",
                (step, user_id, step),
            )
            if cursor.rowcount != 1:
                return False
            db.execute("DELETE FROM totp_recovery_codes WHERE user_id = ?", (user_id,))
            db.executemany(
                "INSERT INTO totp_recovery_codes VALUES (?, ?, 0)", [(user_id, h) for h in recovery_hashes]
            )
            return True

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Move ``last_step`` forward to ``step``; False when it is not newer (a replay) or unconfirmed."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE totp_factors SET last_step = ? WHERE user_id = ? AND confirmed = 1 AND last_step < ?",
                (step, user_id, step),
            )
            return cursor.rowcount == 1

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Mark one unused recovery code used; True for exactly one caller."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE totp_recovery_codes SET used = 1 WHERE user_id = ? AND code_hash = ? AND used = 0 "
                "AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = ? AND confirmed = 1)",
                (user_id, code_hash, user_id),
            )
            return cursor.rowcount == 1

    def replace_recovery_codes(self, user_id: str, recovery_hashes: Sequence[str]) -> None:
        """Drop the user's recovery codes and store these."""
        with self._transaction() as db:
            db.execute("DELETE FROM totp_recovery_codes WHERE user_id = ?", (user_id,))
            db.executemany(
                "INSERT INTO totp_recovery_codes VALUES (?, ?, 0)", [(user_id, h) for h in recovery_hashes]
            )

    def remove_totp(self, user_id: str) -> None:
        """Delete the factor and its recovery codes."""
        with self._transaction() as db:
            db.execute("DELETE FROM totp_recovery_codes WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM totp_factors WHERE user_id = ?", (user_id,))
