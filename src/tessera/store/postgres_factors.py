"""The PostgreSQL second-factor tables: passkeys, their ceremonies' challenges, TOTP factors and codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .postgres_base import PostgresBase
from .records import PasskeyChallenge, PasskeyCredential, TotpFactor

__all__ = ["PostgresFactors"]


def _credential(row: Mapping[str, Any]) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id=row["credential_id"],
        user_id=row["user_id"],
        public_key=bytes(row["public_key"]),
        sign_count=row["sign_count"],
        transports=tuple(row["transports"]),
        backup_eligible=row["backup_eligible"],
        backed_up=row["backed_up"],
        name=row["name"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


def _transports(value: Sequence[str]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(list(value))


class PostgresFactors(PostgresBase):
    """Passkeys and TOTP factors; every single use and counter step decided by one conditional statement."""

    def save_passkey_challenge(self, challenge: PasskeyChallenge) -> None:
        """Store a new challenge."""
        self._run(
            "INSERT INTO passkey_challenges VALUES (%s, %s, %s, %s, %s)",
            challenge.challenge_hash,
            challenge.purpose,
            challenge.binding_hash,
            challenge.user_id,
            challenge.expires_at,
        )

    def consume_passkey_challenge(self, challenge_hash: str, now: float) -> PasskeyChallenge | None:
        """Delete the challenge and return it (one ``DELETE ... RETURNING``), before it expires."""
        row = self._one(
            "DELETE FROM passkey_challenges WHERE challenge_hash = %s RETURNING *", challenge_hash
        )
        if row is None or row["expires_at"] <= now:
            return None
        return PasskeyChallenge(
            row["challenge_hash"], row["purpose"], row["binding_hash"], row["user_id"], row["expires_at"]
        )

    def add_passkey(self, credential: PasskeyCredential) -> bool:
        """Store a new credential; False when the credential id is already registered."""
        return (
            self._run(
                "INSERT INTO passkeys VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                credential.credential_id,
                credential.user_id,
                credential.public_key,
                credential.sign_count,
                _transports(credential.transports),
                credential.backup_eligible,
                credential.backed_up,
                credential.name,
                credential.created_at,
                credential.last_used_at,
            )
            == 1
        )

    def get_passkey(self, credential_id: str) -> PasskeyCredential | None:
        """The credential, or None."""
        row = self._one("SELECT * FROM passkeys WHERE credential_id = %s", credential_id)
        return _credential(row) if row else None

    def list_passkeys(self, user_id: str) -> Sequence[PasskeyCredential]:
        """The user's credentials, oldest first."""
        rows = self._all(
            "SELECT * FROM passkeys WHERE user_id = %s ORDER BY created_at, credential_id", user_id
        )
        return tuple(_credential(r) for r in rows)

    def record_passkey_use(
        self, credential_id: str, expected_sign_count: int, sign_count: int, backed_up: bool, now: float
    ) -> bool:
        """Store the new counter and BS flag if the counter is still ``expected_sign_count``."""
        return (
            self._run(
                "UPDATE passkeys SET sign_count = %s, backed_up = %s, last_used_at = %s "
                "WHERE credential_id = %s AND sign_count = %s",
                sign_count,
                backed_up,
                now,
                credential_id,
                expected_sign_count,
            )
            == 1
        )

    def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool:
        """Rename one of the user's credentials; False when the user has no such credential."""
        return (
            self._run(
                "UPDATE passkeys SET name = %s WHERE credential_id = %s AND user_id = %s",
                name,
                credential_id,
                user_id,
            )
            == 1
        )

    def remove_passkey(self, user_id: str, credential_id: str, *, allow_last: bool) -> bool:
        """Delete one of the user's credentials; unless ``allow_last``, only while another remains.

        The user's rows are locked first, so two removals are decided one after the other and the
        second's count (a new snapshot, under READ COMMITTED) sees the first's delete.
        """
        with self._transaction() as db:
            db.execute(b"SELECT 1 FROM passkeys WHERE user_id = %s FOR UPDATE", (user_id,))
            cursor = db.execute(
                b"DELETE FROM passkeys WHERE credential_id = %s AND user_id = %s AND "
                b"(%s OR (SELECT COUNT(*) FROM passkeys WHERE user_id = %s) > 1)",
                (credential_id, user_id, allow_last, user_id),
            )
            return cursor.rowcount == 1

    # TOTP
    def put_totp(self, factor: TotpFactor) -> None:
        """Create or replace the user's factor; its old recovery codes go with the old factor."""
        with self._transaction() as db:
            db.execute(b"DELETE FROM totp_recovery_codes WHERE user_id = %s", (factor.user_id,))
            db.execute(
                b"INSERT INTO totp_factors VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id) DO UPDATE "
                b"SET sealed_secret = excluded.sealed_secret, confirmed = excluded.confirmed, "
                b"last_step = excluded.last_step, created_at = excluded.created_at",
                (factor.user_id, factor.sealed_secret, factor.confirmed, factor.last_step, factor.created_at),
            )

    def get_totp(self, user_id: str) -> TotpFactor | None:
        """The user's factor, or None."""
        row = self._one("SELECT * FROM totp_factors WHERE user_id = %s", user_id)
        if row is None:
            return None
        return TotpFactor(
            row["user_id"], bytes(row["sealed_secret"]), row["confirmed"], row["last_step"], row["created_at"]
        )

    def confirm_totp(self, user_id: str, step: int, recovery_hashes: Sequence[str]) -> bool:
        """Confirm the unconfirmed factor at ``step`` and store its recovery codes, in one transaction."""
        with self._transaction() as db:
            cursor = db.execute(
                b"UPDATE totp_factors SET confirmed = TRUE, last_step = %s "
                b"WHERE user_id = %s AND NOT confirmed AND last_step < %s",
                (step, user_id, step),
            )
            if cursor.rowcount != 1:
                return False
            _store_codes(db, user_id, recovery_hashes)
            return True

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Move ``last_step`` forward to ``step``; False when it is not newer (a replay) or unconfirmed."""
        return (
            self._run(
                "UPDATE totp_factors SET last_step = %s WHERE user_id = %s AND confirmed AND last_step < %s",
                step,
                user_id,
                step,
            )
            == 1
        )

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Mark one unused recovery code used; True for exactly one caller."""
        return (
            self._run(
                "UPDATE totp_recovery_codes SET used = TRUE WHERE user_id = %s AND code_hash = %s "
                "AND NOT used AND EXISTS (SELECT 1 FROM totp_factors WHERE user_id = %s AND confirmed)",
                user_id,
                code_hash,
                user_id,
            )
            == 1
        )

    def replace_recovery_codes(self, user_id: str, recovery_hashes: Sequence[str]) -> None:
        """Drop the user's recovery codes and store these."""
        with self._transaction() as db:
            _store_codes(db, user_id, recovery_hashes)

    def remove_totp(self, user_id: str) -> None:
        """Delete the factor and its recovery codes."""
        with self._transaction() as db:
            db.execute(b"DELETE FROM totp_recovery_codes WHERE user_id = %s", (user_id,))
            db.execute(b"DELETE FROM totp_factors WHERE user_id = %s", (user_id,))


def _store_codes(db: Any, user_id: str, recovery_hashes: Sequence[str]) -> None:
    """Replace the user's recovery codes (inside the caller's transaction)."""
    db.execute(b"DELETE FROM totp_recovery_codes WHERE user_id = %s", (user_id,))
    with db.cursor() as cursor:
        cursor.executemany(
            b"INSERT INTO totp_recovery_codes VALUES (%s, %s, FALSE) ON CONFLICT DO NOTHING",
            [(user_id, h) for h in recovery_hashes],
        )
