"""The PostgreSQL federation tables: linked upstream identities, their kept tokens, sign-ins in flight.

The primary key (upstream id, ``sub``) makes one upstream identity link to one user: of two
concurrent links, ``INSERT ... ON CONFLICT DO NOTHING`` writes one. A sign-in's state is
stored only as a hash and taken by one ``DELETE ... RETURNING``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .postgres_base import PostgresBase
from .records import UpstreamLink, UpstreamLogin
from .rows import upstream_login_from

__all__ = ["PostgresUpstreamLinks"]


def _link(row: Mapping[str, Any]) -> UpstreamLink:
    return UpstreamLink(row["upstream_id"], row["subject"], row["user_id"], row["linked_at"], row["email"])


class PostgresUpstreamLinks(PostgresBase):
    """Federation rows (migration 5)."""

    def link_upstream(self, link: UpstreamLink) -> bool:
        """Link an upstream identity; False (and nothing written) when it is already linked."""
        return (
            self._run(
                "INSERT INTO upstream_links (upstream_id, subject, user_id, linked_at, email) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                link.upstream_id,
                link.subject,
                link.user_id,
                link.linked_at,
                link.email,
            )
            == 1
        )

    def find_upstream_link(self, upstream_id: str, subject: str) -> UpstreamLink | None:
        """The link of the identity (upstream id, ``sub``), or None."""
        row = self._one(
            "SELECT * FROM upstream_links WHERE upstream_id = %s AND subject = %s", upstream_id, subject
        )
        return _link(row) if row else None

    def upstream_links_of(self, user_id: str) -> Sequence[UpstreamLink]:
        """Every identity linked to ``user_id``, oldest first."""
        rows = self._all(
            "SELECT * FROM upstream_links WHERE user_id = %s ORDER BY linked_at, upstream_id, subject",
            user_id,
        )
        return tuple(_link(row) for row in rows)

    def unlink_upstream(self, upstream_id: str, subject: str, user_id: str) -> bool:
        """Remove the identity's link to ``user_id`` and any tokens kept for it (the same row)."""
        return (
            self._run(
                "DELETE FROM upstream_links WHERE upstream_id = %s AND subject = %s AND user_id = %s",
                upstream_id,
                subject,
                user_id,
            )
            == 1
        )

    def keep_upstream_tokens(self, upstream_id: str, subject: str, user_id: str, sealed: bytes) -> bool:
        """Store the identity's sealed upstream tokens (replacing any); False unless linked to ``user_id``."""
        return (
            self._run(
                "UPDATE upstream_links SET sealed_tokens = %s "
                "WHERE upstream_id = %s AND subject = %s AND user_id = %s",
                sealed,
                upstream_id,
                subject,
                user_id,
            )
            == 1
        )

    def upstream_tokens(self, upstream_id: str, subject: str) -> bytes | None:
        """The sealed upstream tokens kept for the identity, or None."""
        row = self._one(
            "SELECT sealed_tokens FROM upstream_links WHERE upstream_id = %s AND subject = %s",
            upstream_id,
            subject,
        )
        return bytes(row["sealed_tokens"]) if row and row["sealed_tokens"] is not None else None

    def save_upstream_login(self, login: UpstreamLogin) -> None:
        """Store a sign-in sent to an upstream provider."""
        self._run(
            "INSERT INTO upstream_logins VALUES (%s, %s, %s, %s, %s, %s)",
            login.state_hash,
            login.upstream_id,
            login.binding_hash,
            login.created_at,
            login.expires_at,
            login.linking_user_id,
        )

    def take_upstream_login(self, state_hash: str, now: float) -> UpstreamLogin | None:
        """Delete and return the live sign-in for ``state_hash``; None for every caller but one."""
        row = self._one("DELETE FROM upstream_logins WHERE state_hash = %s RETURNING *", state_hash)
        if row is None or row["expires_at"] <= now:
            return None
        return upstream_login_from(row)

    def mark_session_upstream(self, session_hash: str, upstream_id: str, expires_at: float) -> None:
        """Record that a session began with a sign-in at ``upstream_id``."""
        self._run(
            "INSERT INTO upstream_sessions VALUES (%s, %s, %s) ON CONFLICT (session_hash) "
            "DO UPDATE SET upstream_id = excluded.upstream_id, expires_at = excluded.expires_at",
            session_hash,
            upstream_id,
            expires_at,
        )

    def session_upstream(self, session_hash: str, now: float) -> str | None:
        """The upstream a session began at, or None for a local sign-in."""
        row = self._one(
            "SELECT upstream_id FROM upstream_sessions WHERE session_hash = %s AND expires_at > %s",
            session_hash,
            now,
        )
        return str(row["upstream_id"]) if row else None
