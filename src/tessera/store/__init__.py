"""The provider's persistence: one backend-neutral interface, one module per backend.

Every single-use artefact (authorization code, refresh token, one-time code, client-assertion
``jti``) is consumed with a conditional write, never read-then-write (STO-02). Every read
enforces ``expires_at`` itself (STO-09): lazy deletion is housekeeping, not a control. Secrets
reach the store only as hashes (STO-01); signing keys only sealed (STO-05).
"""

from .base import (
    AccessTokenRecord,
    AuthorizationCode,
    ClientRecord,
    Consent,
    Grant,
    OneTimeCode,
    PendingRequest,
    RefreshRotation,
    RefreshState,
    RefreshToken,
    Session,
    SigningKeyRecord,
    Store,
    User,
    secret_hash,
)

__all__ = [
    "AccessTokenRecord",
    "AuthorizationCode",
    "ClientRecord",
    "Consent",
    "Grant",
    "OneTimeCode",
    "PendingRequest",
    "RefreshRotation",
    "RefreshState",
    "RefreshToken",
    "Session",
    "SigningKeyRecord",
    "Store",
    "User",
    "secret_hash",
]
