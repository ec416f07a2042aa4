"""The provider's signing key set: previous, current and next, rotated by compare-and-swap.

The JWKS always publishes all three. A verifier that cached the JWKS before a rotation already
holds the new current key (it was "next") and still holds the old one (now "previous"), so no
token in flight stops verifying and no verifier meets an unknown ``kid``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError, Reason, TokenError
from ..store import SigningKeyRecord, Store
from ..verify.keys import VerificationKey
from ..verify.keyset import KeySet
from .sealing import MasterKey
from .signing import SigningKey

__all__ = ["SIGNING_ALGORITHMS", "KeyRing", "RotationConflict"]

SIGNING_ALGORITHMS = ("RS256", "ES256", "EdDSA")
_STATUSES = ("previous", "current", "next")


class RotationConflict(ConfigurationError):
    """Another process rotated the keys at the same time; re-read and try again."""

    code = "rotation_conflict"


class KeyRing:
    """Signing keys kept in a :class:`~tessera.store.Store`, private parts sealed.

    It is also a :class:`~tessera.verify.keyset.KeySource`, so the provider verifies its own
    tokens (userinfo, revocation, introspection) with :class:`~tessera.verify.Verifier`.
    """

    def __init__(
        self,
        store: Store,
        master_key: MasterKey,
        alg: str = "RS256",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if alg not in SIGNING_ALGORITHMS:
            raise ConfigurationError(f"signing algorithm must be one of {', '.join(SIGNING_ALGORITHMS)}")
        self._store = store
        self._master = master_key
        self.alg = alg
        self._clock = clock
        self._signers: dict[str, SigningKey] = {}
        self._verifiers: tuple[tuple[str, ...], KeySet] | None = None

    def _new_record(self, status: str, offset: float = 0.0) -> SigningKeyRecord:
        key = SigningKey.generate(self.alg)
        return SigningKeyRecord(
            kid=key.kid,
            alg=key.alg,
            status=status,
            public_jwk=key.public_jwk(),
            sealed_private=self._master.seal(key.private_pem(), key.kid),
            created_at=self._clock() + offset,
        )

    def records(self) -> dict[str, SigningKeyRecord]:
        """The stored keys by status."""
        return {r.status: r for r in self._store.list_signing_keys()}

    def ensure(self) -> None:
        """Create previous, current and next keys if the store has none (first run)."""
        if self.records():
            return
        keys = [self._new_record(status, offset=i * 1e-3) for i, status in enumerate(_STATUSES)]
        self._store.replace_signing_keys(None, keys)

    def rotate(self) -> SigningKeyRecord:
        """Promote next to current, current to previous, and create a new next; returns current."""
        records = self.records()
        if set(records) != set(_STATUSES):
            raise ConfigurationError("the key set is incomplete; run the provider once to create it")
        previous = _with_status(records["current"], "previous")
        current = _with_status(records["next"], "current")
        upcoming = self._new_record("next")
        if not self._store.replace_signing_keys(records["current"].kid, [previous, current, upcoming]):
            raise RotationConflict("the key set changed during rotation")
        return current

    def signing_key(self) -> SigningKey:
        """The current private key, opened from the store (cached per ``kid``)."""
        record = self.records().get("current")
        if record is None:
            raise ConfigurationError("no current signing key; call ensure() first")
        key = self._signers.get(record.kid)
        if key is None:
            pem = self._master.open(record.sealed_private, record.kid)
            key = SigningKey.from_pem(pem, record.alg, kid=record.kid)
            self._signers[record.kid] = key
        return key

    def jwks(self) -> dict[str, Any]:
        """The public JWKS: previous, current and next, public members only (AS-56)."""
        records = self.records()
        return {"keys": [dict(records[s].public_jwk) for s in _STATUSES if s in records]}

    def algorithms(self) -> list[str]:
        """The algorithms of the published keys."""
        return sorted({r.alg for r in self._store.list_signing_keys()})

    def _keyset(self) -> KeySet:
        document = self.jwks()
        kids = tuple(k["kid"] for k in document["keys"])
        if self._verifiers is None or self._verifiers[0] != kids:
            self._verifiers = (kids, KeySet.from_jwks(document))
        return self._verifiers[1]

    def get_key(self, kid: str | None) -> VerificationKey:
        """The published verification key for ``kid``."""
        if kid is None:
            raise TokenError(Reason.UNKNOWN_KEY)
        return self._keyset().get_key(kid)

    async def aget_key(self, kid: str | None) -> VerificationKey:
        """The async twin of :meth:`get_key` (the store is local: no I/O wait worth awaiting)."""
        return self.get_key(kid)


def _with_status(record: SigningKeyRecord, status: str) -> SigningKeyRecord:
    return SigningKeyRecord(
        record.kid, record.alg, status, record.public_jwk, record.sealed_private, record.created_at
    )
