"""The PostgreSQL mail queue: sealed mails waiting for a sender, claimed with ``FOR UPDATE SKIP LOCKED``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .postgres_base import PostgresBase
from .records import QueuedMail

__all__ = ["PostgresMailQueue"]


def _mail(row: Mapping[str, Any]) -> QueuedMail:
    return QueuedMail(row["mail_id"], bytes(row["sealed"]), row["due_at"], row["expires_at"], row["attempts"])


class PostgresMailQueue(PostgresBase):
    """The ``mail_queue`` table (:class:`~tessera.store.MailQueue`)."""

    def enqueue_mail(self, mail: QueuedMail) -> None:
        """Store a new mail to send."""
        self._run(
            "INSERT INTO mail_queue VALUES (%s, %s, %s, %s, %s)",
            mail.mail_id,
            mail.sealed,
            mail.due_at,
            mail.expires_at,
            mail.attempts,
        )

    def claim_mail(self, now: float, lease_seconds: float) -> QueuedMail | None:
        """Take the oldest due mail in one statement; concurrent claimers skip each other's rows."""
        row = self._one(
            "UPDATE mail_queue SET due_at = %s, attempts = attempts + 1 WHERE mail_id = ("
            "  SELECT mail_id FROM mail_queue WHERE due_at <= %s ORDER BY due_at LIMIT 1 "
            "  FOR UPDATE SKIP LOCKED) RETURNING *",
            now + lease_seconds,
            now,
        )
        return _mail(row) if row is not None else None

    def release_mail(self, mail_id: str, due_at: float) -> None:
        """Make a claimed mail due again at ``due_at``."""
        self._run("UPDATE mail_queue SET due_at = %s WHERE mail_id = %s", due_at, mail_id)

    def delete_mail(self, mail_id: str) -> None:
        """Forget a mail."""
        self._run("DELETE FROM mail_queue WHERE mail_id = %s", mail_id)
