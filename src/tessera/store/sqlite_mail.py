"""The SQLite mail queue: sealed mails waiting for a sender, claimed by a conditional write."""

from __future__ import annotations

import sqlite3

from .records import QueuedMail
from .sqlite_signin import SQLiteBase

__all__ = ["MailQueueTable"]


def _mail_from(row: sqlite3.Row) -> QueuedMail:
    return QueuedMail(row["mail_id"], bytes(row["sealed"]), row["due_at"], row["expires_at"], row["attempts"])


class MailQueueTable(SQLiteBase):
    """The ``mail_queue`` table (:class:`~tessera.store.MailQueue`)."""

    def enqueue_mail(self, mail: QueuedMail) -> None:
        """Store a new mail to send."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO mail_queue VALUES (?, ?, ?, ?, ?)",
                (mail.mail_id, mail.sealed, mail.due_at, mail.expires_at, mail.attempts),
            )

    def claim_mail(self, now: float, lease_seconds: float) -> QueuedMail | None:
        """Take the oldest due mail in one ``UPDATE ... RETURNING``: one claimer per row."""
        with self._transaction() as db:
            row = db.execute(
                "UPDATE mail_queue SET due_at = ?, attempts = attempts + 1 WHERE mail_id = "
                "(SELECT mail_id FROM mail_queue WHERE due_at <= ? ORDER BY due_at LIMIT 1) "
                "RETURNING *",
                (now + lease_seconds, now),
            ).fetchone()
        return _mail_from(row) if row is not None else None

    def release_mail(self, mail_id: str, due_at: float) -> None:
        """Make a claimed mail due again at ``due_at``."""
        with self._transaction() as db:
            db.execute("UPDATE mail_queue SET due_at = ? WHERE mail_id = ?", (due_at, mail_id))

    def delete_mail(self, mail_id: str) -> None:
        """Forget a mail."""
        with self._transaction() as db:
            db.execute("DELETE FROM mail_queue WHERE mail_id = ?", (mail_id,))
