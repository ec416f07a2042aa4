"""Records from SQL rows, the same for SQLite and PostgreSQL: both drivers index a row by column."""

from __future__ import annotations

from typing import Any, Protocol

from .records import RefreshState, RefreshToken, Session, UpstreamLogin

__all__ = ["ColumnRow", "refresh_from", "session_from", "upstream_login_from"]


class ColumnRow(Protocol):
    """A row whose columns are read by name (``sqlite3.Row``, psycopg's dict rows)."""

    def __getitem__(self, column: str, /) -> Any: ...


def refresh_from(row: ColumnRow) -> RefreshToken:
    """A refresh token from its row."""
    return RefreshToken(
        token_hash=row["token_hash"],
        grant_id=row["grant_id"],
        client_id=row["client_id"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        state=RefreshState(row["state"]),
        rotated_at=row["rotated_at"],
    )


def session_from(row: ColumnRow) -> Session:
    """A session from its row (SQLite keeps ``revoked`` as 0/1)."""
    return Session(
        row["session_hash"],
        row["user_id"],
        row["auth_time"],
        row["expires_at"],
        bool(row["revoked"]),
        tuple(row["amr"].split()),
        row["method"],
        row["user_agent"],
    )


def upstream_login_from(row: ColumnRow) -> UpstreamLogin:
    """A sign-in sent to an upstream provider, from its row."""
    return UpstreamLogin(
        state_hash=row["state_hash"],
        upstream_id=row["upstream_id"],
        binding_hash=row["binding_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        linking_user_id=row["linking_user_id"],
    )
