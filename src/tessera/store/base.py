"""The records the provider keeps, and the :class:`Store` protocol every backend implements.

Times are POSIX seconds passed in by the caller (``now``), so a test moves time with a clock,
never with a sleep. Keys named ``*_hash`` hold SHA-256 digests of secrets, hex-encoded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

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


def secret_hash(secret: str) -> str:
    """The stored form of a high-entropy secret (code, token, session id): SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ClientRecord:
    """A registered OAuth client. ``auth_methods`` empty or ``("none",)`` means public."""

    client_id: str
    redirect_uris: tuple[str, ...] = ()
    auth_methods: tuple[str, ...] = ("none",)
    secret_hash: str | None = None
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    scopes: tuple[str, ...] = ("openid", "profile", "email", "offline_access")
    post_logout_redirect_uris: tuple[str, ...] = ()
    jwks: Mapping[str, Any] | None = None
    first_party: bool = True
    require_pkce: bool = True
    name: str = ""

    @property
    def public(self) -> bool:
        """True when the client holds no credentials (``token_endpoint_auth_method=none``)."""
        return self.auth_methods == ("none",)


@dataclass(frozen=True)
class User:
    """An end user."""

    user_id: str
    email: str
    email_verified: bool = True
    name: str = ""
    roles: tuple[str, ...] = ()
    disabled: bool = False


@dataclass(frozen=True)
class AuthorizationCode:
    """An issued authorization code (stored by hash), bound to client, redirect and PKCE."""

    code_hash: str
    client_id: str
    redirect_uri: str | None
    code_challenge: str | None
    user_id: str
    scope: str
    nonce: str | None
    auth_time: int
    grant_id: str
    session_hash: str | None
    expires_at: float
    consumed: bool = False


@dataclass(frozen=True)
class Grant:
    """What one authorization (or one client_credentials request) produced: a token family."""

    grant_id: str
    client_id: str
    user_id: str | None
    scope: str
    auth_time: int | None
    created_at: float
    expires_at: float
    session_hash: str | None = None
    revoked: bool = False


class RefreshState(StrEnum):
    """Where a refresh token is in its life."""

    ACTIVE = "active"
    ROTATED = "rotated"


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token (stored by hash), one member of a grant's family."""

    token_hash: str
    grant_id: str
    client_id: str
    issued_at: float
    expires_at: float
    state: RefreshState = RefreshState.ACTIVE
    rotated_at: float | None = None


@dataclass(frozen=True)
class RefreshRotation:
    """The outcome of :meth:`Store.rotate_refresh`: ``rotated`` is False when another use won."""

    rotated: bool
    previous: RefreshToken | None


@dataclass(frozen=True)
class AccessTokenRecord:
    """An issued JWT access token, by ``jti``, so that it can be revoked and introspected."""

    jti: str
    client_id: str
    grant_id: str | None
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class Session:
    """A browser session at the provider (stored by the hash of its cookie value)."""

    session_hash: str
    user_id: str
    auth_time: int
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class OneTimeCode:
    """An emailed one-time code challenge: the code only as an HMAC under a pepper."""

    challenge_hash: str
    email: str
    code_mac: str
    created_at: float
    expires_at: float
    attempts: int = 0
    consumed: bool = False


@dataclass(frozen=True)
class PendingRequest:
    """A validated authorization request waiting for the user to sign in."""

    request_hash: str
    params: Mapping[str, str]
    created_at: float
    expires_at: float
    force_login: bool = False


@dataclass(frozen=True)
class Consent:
    """The scopes a user has allowed a (third-party) client, accumulated over every approval."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    granted_at: float
    updated_at: float

    def covers(self, scopes: Iterable[str]) -> bool:
        """True when every one of ``scopes`` was allowed."""
        return set(scopes) <= set(self.scopes)


@dataclass(frozen=True)
class SigningKeyRecord:
    """A signing key: public JWK in clear, private key sealed under the master key."""

    kid: str
    alg: str
    status: str  # "previous" | "current" | "next"
    public_jwk: Mapping[str, Any]
    sealed_private: bytes
    created_at: float
    extra: Mapping[str, Any] = field(default_factory=dict)


class Store(Protocol):
    """Persistence for the provider. Implementations must make the documented writes atomic."""

    # clients and users
    def put_client(self, client: ClientRecord) -> None:
        """Create or replace a client."""
        ...

    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client, or None."""
        ...

    def put_user(self, user: User) -> None:
        """Create or replace a user (emails are unique, compared case-insensitively)."""
        ...

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        ...

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        ...

    # authorization codes
    def save_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code."""
        ...

    def get_code(self, code_hash: str, now: float) -> AuthorizationCode | None:
        """The code record, consumed or not, or None when unknown or expired."""
        ...

    def consume_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used; True for exactly one caller, and only before it expires."""
        ...

    # grants, refresh and access tokens
    def create_grant(self, grant: Grant) -> None:
        """Record a grant; a grant already revoked under this id stays revoked."""
        ...

    def get_grant(self, grant_id: str) -> Grant | None:
        """The grant, or None."""
        ...

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant and with it every refresh and access token of its family."""
        ...

    def save_refresh(self, token: RefreshToken) -> None:
        """Store a new refresh token."""
        ...

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        """The refresh token record in any state, or None."""
        ...

    def rotate_refresh(self, token_hash: str, successor: RefreshToken, now: float) -> RefreshRotation:
        """Atomically retire an active token and store its successor (compare-and-swap)."""
        ...

    def save_access_token(self, record: AccessTokenRecord) -> None:
        """Remember an issued access token."""
        ...

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """The access token record, or None."""
        ...

    def revoke_access_token(self, jti: str) -> None:
        """Revoke one access token."""
        ...

    def revoke_access_tokens_of_grant(self, grant_id: str, except_jti: str) -> None:
        """Revoke every access token of a grant but one (rotation retires older tokens)."""
        ...

    # sessions and sign-in
    def create_session(self, session: Session) -> None:
        """Store a new session."""
        ...

    def get_session(self, session_hash: str, now: float) -> Session | None:
        """The live session, or None when unknown, revoked or expired."""
        ...

    def end_session(self, session_hash: str) -> None:
        """Revoke a session and every grant made under it."""
        ...

    def save_pending(self, request: PendingRequest) -> None:
        """Store an authorization request that waits for sign-in."""
        ...

    def get_pending(self, request_hash: str, now: float) -> PendingRequest | None:
        """The pending request, or None when unknown or expired."""
        ...

    def delete_pending(self, request_hash: str) -> None:
        """Forget a pending request."""
        ...

    def save_one_time_code(self, code: OneTimeCode) -> None:
        """Store a new one-time code challenge."""
        ...

    def last_one_time_code_at(self, email: str) -> float | None:
        """When the newest challenge for ``email`` was created (for resend throttling)."""
        ...

    def count_one_time_code_failures(self, email: str, since: float) -> int:
        """Failed attempts against ``email``'s challenges created since ``since``."""
        ...

    def attempt_one_time_code(self, challenge_hash: str, max_attempts: int, now: float) -> OneTimeCode | None:
        """Count one attempt; the record after counting, or None when dead, used or expired."""
        ...

    def consume_one_time_code(self, challenge_hash: str, now: float) -> bool:
        """Mark the challenge used; True for exactly one caller."""
        ...

    def remember_jti(self, issuer: str, jti: str, expires_at: float, now: float) -> bool:
        """Record a one-time ``jti`` for ``issuer``; False when it was already seen and alive."""
        ...

    # consent
    def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        """What ``user_id`` has allowed ``client_id``, or None."""
        ...

    def grant_consent(self, user_id: str, client_id: str, scopes: Sequence[str], now: float) -> Consent:
        """Add ``scopes`` to the user's consent for the client (creating it) atomically; the result."""
        ...

    def revoke_consent(self, user_id: str, client_id: str) -> None:
        """Withdraw the consent and revoke every grant (so every token) the client holds for the user."""
        ...

    # rate limits
    def count_hits(self, key: str, window: int) -> int:
        """How many hits ``key`` has in fixed window number ``window``."""
        ...

    def add_hit(self, key: str, window: int) -> int:
        """Count one hit for ``key`` in ``window`` atomically; the new count."""
        ...

    # signing keys
    def list_signing_keys(self) -> Sequence[SigningKeyRecord]:
        """Every stored signing key."""
        ...

    def replace_signing_keys(self, expected_current: str | None, keys: Sequence[SigningKeyRecord]) -> bool:
        """Swap in a new key set if the current ``kid`` is still ``expected_current`` (CAS)."""
        ...

    # housekeeping
    def purge_expired(self, now: float) -> int:
        """Delete rows that can no longer matter; returns how many went."""
        ...
