"""The SQLite federation tables: linked upstream identities, sign-ins in flight, federated sessions."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .records import UpstreamLink, UpstreamLogin
from .rows import upstream_login_from
from .sqlite_signin import SQLiteBase

__all__ = ["UpstreamTables"]


def _link_from(row: sqlite3.Row) -> UpstreamLink:
    return UpstreamLink(row["upstream_id"], row["subject"], row["user_id"], row["linked_at"], row["email"])


class UpstreamTables(SQLiteBase):
    """Federation rows; the state of a sign-in is stored only as a hash, and taken by one DELETE."""

    def link_upstream(self, link: UpstreamLink) -> bool:
        """Link an upstream identity; False (and nothing written) when it is already linked."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO upstream_links VALUES (?, ?, ?, ?, ?)",
                (link.upstream_id, link.subject, link.user_id, link.linked_at, link.email),
            )
            return cursor.rowcount == 1

    def find_upstream_link(self, upstream_id: str, subject: str) -> UpstreamLink | None:
        """The link of the identity (upstream id, ``sub``), or None."""
        row = self._one(
            "SELECT * FROM upstream_links WHERE upstream_id = ? AND subject = ?", upstream_id, subject
        )
        return _link_from(row) if row else None

    def upstream_links_of(self, user_id: str) -> Sequence[UpstreamLink]:
        """Every identity linked to ``user_id``, oldest first."""
        rows = (
            self._connection()
            .execute("SELECT * FROM upstream_links WHERE user_id = ? ORDER BY linked_at", (user_id,))
            .fetchall()
        )
        return tuple(_link_from(row) for row in rows)

    def unlink_upstream(self, upstream_id: str, subject: str, user_id: str) -> bool:
        """Remove the identity's link to ``user_id`` and any tokens kept for it; True when there was one."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM upstream_links WHERE upstream_id = ? AND subject = ? AND user_id = ?",
                (upstream_id, subject, user_id),
            )
            if cursor.rowcount != 1:
                return False
            db.execute(
                "DELETE FROM upstream_tokens WHERE upstream_id = ? AND subject = ?", (upstream_id, subject)
            )
            return True

    def keep_upstream_tokens(self, upstream_id: str, subject: str, user_id: str, sealed: bytes) -> bool:
        """Store the identity's sealed upstream tokens (replacing any); False unless linked to ``user_id``."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR REPLACE INTO upstream_tokens SELECT upstream_id, subject, ? FROM upstream_links "
                "WHERE upstream_id = ? AND subject = ? AND user_id = ?",
                (sealed, upstream_id, subject, user_id),
            )
            return cursor.rowcount == 1

    def upstream_tokens(self, upstream_id: str, subject: str) -> bytes | None:
        """The sealed upstream tokens kept for the identity, or None."""
        row = self._one(
            "SELECT sealed FROM upstream_tokens WHERE upstream_id = ? AND subject = ?", upstream_id, subject
        )
        return bytes(row["sealed"]) if row else None

    def save_upstream_login(self, login: UpstreamLogin) -> None:
        """Store a sign-in sent to an upstream provider."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO upstream_logins VALUES (?, ?, ?, ?, ?, ?)",
                (
                    login.state_hash,
                    login.upstream_id,
                    login.binding_hash,
                    login.created_at,
                    login.expires_at,
                    login.linking_user_id,
                ),
            )

    def take_upstream_login(self, state_hash: str, now: float) -> UpstreamLogin | None:
        """Delete and return the live sign-in for ``state_hash``; None for every caller but one."""
        with self._transaction() as db:
            row = db.execute(
                "DELETE FROM upstream_logins WHERE state_hash = ? RETURNING *", (state_hash,)
            ).fetchone()
        if row is None or row["expires_at"] <= now:
            return None
        return upstream_login_from(row)

    def mark_session_upstream(self, session_hash: str, upstream_id: str, expires_at: float) -> None:
        """Record that a session began with a sign-in at ``upstream_id``."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO upstream_sessions VALUES (?, ?, ?)",
                (session_hash, upstream_id, expires_at),
            )

    def session_upstream(self, session_hash: str, now: float) -> str | None:
        """The upstream a session began at, or None for a local sign-in."""
        row = self._one(
            "SELECT upstream_id FROM upstream_sessions WHERE session_hash = ? AND expires_at > ?",
            session_hash,
            now,
        )
        return str(row["upstream_id"]) if row else None
