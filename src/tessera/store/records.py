"""The records the provider keeps: frozen dataclasses, one per artefact kind.

Times are POSIX seconds. Fields named ``*_hash`` hold SHA-256 digests of secrets, hex-encoded
(:func:`secret_hash`); the secrets themselves are never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AccessTokenRecord",
    "AuthorizationCode",
    "ClientRecord",
    "Consent",
    "Grant",
    "OneTimeCode",
    "PasskeyChallenge",
    "PasskeyCredential",
    "PendingRequest",
    "QueuedMail",
    "RefreshRotation",
    "RefreshState",
    "RefreshToken",
    "Session",
    "SigningKeyRecord",
    "TotpFactor",
    "UpstreamLink",
    "UpstreamLogin",
    "User",
    "grant_from_body",
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
    """An end user. ``phone``, when set, is an E.164 number unique among users (SMS sign-in)."""

    user_id: str
    email: str
    email_verified: bool = True
    name: str = ""
    roles: tuple[str, ...] = ()
    disabled: bool = False
    phone: str | None = None


@dataclass(frozen=True)
class AuthorizationCode:
    """An issued authorization code (stored by hash), bound to client, redirect and PKCE.

    ``resource`` is the RFC 8707 resource (an API's audience) the request named, if any.
    """

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
    resource: str | None = None


@dataclass(frozen=True)
class Grant:
    """What one authorization (or one client_credentials request) produced: a token family.

    ``resource`` is the API the authorization was bound to (RFC 8707), if it named one. ``amr``
    and ``idp`` say how the user signed in (RFC 8176; the upstream provider of a federated
    sign-in), fixed when the grant is made so that refreshed tokens carry them after the session
    has ended, without reading it.
    """

    grant_id: str
    client_id: str
    user_id: str | None
    scope: str
    auth_time: int | None
    created_at: float
    expires_at: float
    session_hash: str | None = None
    revoked: bool = False
    resource: str | None = None
    amr: tuple[str, ...] = ()
    idp: str | None = None


def grant_from_body(body: Mapping[str, Any], **overrides: Any) -> Grant:
    """A :class:`Grant` from its stored JSON body (``amr`` comes back as a list)."""
    fields = {**body, **overrides}
    fields["amr"] = tuple(fields.get("amr", ()))
    return Grant(**fields)


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
    """An access token by ``jti``: one issued in a grant, or a revoked one.

    Tokens of no grant (client_credentials) are self-contained and get a record only when
    revoked, so a busy machine client does not add a row per token.
    """

    jti: str
    client_id: str
    grant_id: str | None
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class Session:
    """A browser session at the provider (stored by the hash of its cookie value).

    ``amr`` are the RFC 8176 methods its sign-in used (``otp``, ``hwk``, ``mfa``, ...), which
    its tokens report as ``amr`` and ``acr``; empty for a session stored before they were kept.
    ``method`` says how it began (``email_code``, ``magic_link``, ``sms``, ``passkey``,
    ``upstream:<id>``; empty for a session stored before sessions said so); ``user_agent`` is a
    short summary of the browser that began it (``Chrome on Linux``), never the raw header. Both
    are shown to the user on the account page.
    """

    session_hash: str
    user_id: str
    auth_time: int
    expires_at: float
    revoked: bool = False
    amr: tuple[str, ...] = ()
    method: str = ""
    user_agent: str = ""


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
class QueuedMail:
    """A mail waiting to be sent: its content sealed under the master key (it may hold a code).

    ``due_at`` is when a sender may next claim it (a claim pushes it past the send's lease);
    ``expires_at`` is when sending it stops making sense (the code in it has expired).
    """

    mail_id: str
    sealed: bytes
    due_at: float
    expires_at: float
    attempts: int = 0


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


@dataclass(frozen=True)
class PasskeyCredential:
    """A user's WebAuthn credential (passkey): public key, counter and backup flags, never a secret.

    ``credential_id`` is the base64url of the raw credential id; ``public_key`` the COSE key.
    ``backup_eligible`` (BE) is fixed at registration; ``backed_up`` (BS) follows each use.
    """

    credential_id: str
    user_id: str
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    backup_eligible: bool
    backed_up: bool
    name: str
    created_at: float
    last_used_at: float | None = None


@dataclass(frozen=True)
class PasskeyChallenge:
    """An issued WebAuthn challenge (stored by hash), bound to the browser session that asked.

    ``purpose`` is ``"register"`` or ``"sign_in"``; ``binding_hash`` the hash of the cookie
    value of the session (or pre-sign-in browser) the options went to; ``user_id`` the
    account a registration is for.
    """

    challenge_hash: str
    purpose: str
    binding_hash: str
    user_id: str | None
    expires_at: float


@dataclass(frozen=True)
class TotpFactor:
    """A user's authenticator-app (TOTP) factor: the secret sealed under the master key.

    ``confirmed`` turns true with the first correct code; ``last_step`` is the newest time step
    accepted, so no code of that step or an earlier one works again (PWL-22).
    """

    user_id: str
    sealed_secret: bytes
    confirmed: bool
    last_step: int
    created_at: float


@dataclass(frozen=True)
class UpstreamLink:
    """An upstream identity (upstream id, its ``sub``) linked to one Tessera user."""

    upstream_id: str
    subject: str
    user_id: str
    linked_at: float
    email: str = ""


@dataclass(frozen=True)
class UpstreamLogin:
    """A sign-in sent to an upstream provider, waiting for its answer (stored by its state's hash).

    ``binding_hash`` is the hash of the browser's binding cookie: the answer is accepted only
    from the browser that started the sign-in, and only once.
    """

    state_hash: str
    upstream_id: str
    binding_hash: str
    created_at: float
    expires_at: float
    linking_user_id: str | None = None
