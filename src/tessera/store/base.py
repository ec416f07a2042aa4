"""The :class:`Store` protocol every backend implements, one small protocol per artefact kind.

Every method takes the time it needs as ``now`` (POSIX seconds) from the caller, so a test moves
time with a clock, never with a sleep; every read enforces expiry itself. Writes documented as
atomic (consuming, rotating, counting) must be: exactly one of any number of concurrent callers
wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .records import (
    AccessTokenRecord,
    AuthorizationCode,
    ClientRecord,
    Consent,
    Grant,
    OneTimeCode,
    PasskeyChallenge,
    PasskeyCredential,
    PendingRequest,
    QueuedMail,
    RefreshRotation,
    RefreshToken,
    Session,
    SigningKeyRecord,
    TotpFactor,
    UpstreamLink,
    UpstreamLogin,
    User,
)

__all__ = [
    "ClientsAndUsers",
    "Directory",
    "AuthorizationCodes",
    "TokenFamilies",
    "SignIn",
    "Consents",
    "Passkeys",
    "RateCounters",
    "MailQueue",
    "SigningKeys",
    "TotpFactors",
    "Housekeeping",
    "UpstreamLinks",
    "Accounts",
    "Store",
    "FederatedStore",
]


class ClientsAndUsers(Protocol):
    """Registered clients and end users."""

    def put_client(self, client: ClientRecord) -> None:
        """Create or replace a client."""
        ...

    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client, or None."""
        ...

    def put_user(self, user: User) -> None:
        """Create or replace a user (emails are unique, compared case-insensitively; phones are unique)."""
        ...

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        ...

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        ...

    def find_user_by_phone(self, phone: str) -> User | None:
        """The user whose ``phone`` is this E.164 number, or None."""
        ...


class Directory(Protocol):
    """Listing and removing clients and users: what the admin commands need beyond :class:`Store`."""

    def list_clients(self) -> Sequence[ClientRecord]:
        """Every registered client, by id."""
        ...

    def delete_client(self, client_id: str) -> bool:
        """Remove a client; False when there was none."""
        ...

    def list_users(self, limit: int | None = None) -> Sequence[User]:
        """Every user, by email; with ``limit``, at most that many (which ones is the store's choice)."""
        ...

    def delete_user(self, user_id: str) -> bool:
        """Remove a user; False when there was none."""
        ...


class AuthorizationCodes(Protocol):
    """Authorization codes: single-use, consumed by a conditional write."""

    def save_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code."""
        ...

    def get_code(self, code_hash: str, now: float) -> AuthorizationCode | None:
        """The code record, consumed or not, or None when unknown or expired."""
        ...

    def consume_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used; True for exactly one caller, and only before it expires."""
        ...


class TokenFamilies(Protocol):
    """Grants (token families) with their refresh and access tokens."""

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

    def rotate_refresh(
        self,
        token_hash: str,
        successor: RefreshToken,
        now: float,
        access_token: AccessTokenRecord | None = None,
    ) -> RefreshRotation:
        """Atomically retire an active token and store its successor (compare-and-swap).

        A successful rotation also revokes the grant's access tokens issued so far, and records
        ``access_token`` (the successor's companion, not revoked) in the same transaction.
        """
        ...

    def save_access_token(self, record: AccessTokenRecord) -> None:
        """Remember an access token issued in a grant, so that revoking the grant reaches it."""
        ...

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """The access token record, or None."""
        ...

    def revoke_access_token(self, record: AccessTokenRecord) -> None:
        """Revoke one access token: mark its record, creating it when none was saved (no grant)."""
        ...


class SignIn(Protocol):
    """Browser sessions, pending authorization requests, one-time codes and one-time ``jti`` values."""

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

    def attempt_one_time_code(self, challenge_hash: str, max_attempts: int, now: float) -> OneTimeCode | None:
        """Count one attempt; the record after counting, or None when dead, used or expired."""
        ...

    def consume_one_time_code(self, challenge_hash: str, now: float) -> bool:
        """Mark the challenge used; True for exactly one caller."""
        ...

    def remember_jti(self, issuer: str, jti: str, expires_at: float, now: float) -> bool:
        """Record a one-time ``jti`` for ``issuer``; False when it was already seen and alive."""
        ...


class Consents(Protocol):
    """What users allowed third-party clients."""

    def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        """What ``user_id`` has allowed ``client_id``, or None."""
        ...

    def grant_consent(self, user_id: str, client_id: str, scopes: Sequence[str], now: float) -> Consent:
        """Add ``scopes`` to the user's consent for the client (creating it) atomically; the result."""
        ...

    def revoke_consent(self, user_id: str, client_id: str) -> None:
        """Withdraw the consent and revoke every grant (so every token) the client holds for the user."""
        ...


class Passkeys(Protocol):
    """Users' WebAuthn credentials and the single-use challenges of their ceremonies."""

    def save_passkey_challenge(self, challenge: PasskeyChallenge) -> None:
        """Store a new challenge."""
        ...

    def consume_passkey_challenge(self, challenge_hash: str, now: float) -> PasskeyChallenge | None:
        """Use up the challenge (conditional write); the record for exactly one caller, before expiry."""
        ...

    def add_passkey(self, credential: PasskeyCredential) -> bool:
        """Store a new credential; False when its id is already registered (to anyone)."""
        ...

    def get_passkey(self, credential_id: str) -> PasskeyCredential | None:
        """The credential, or None."""
        ...

    def list_passkeys(self, user_id: str) -> Sequence[PasskeyCredential]:
        """The user's credentials, oldest first."""
        ...

    def record_passkey_use(
        self, credential_id: str, expected_sign_count: int, sign_count: int, backed_up: bool, now: float
    ) -> bool:
        """Store a use's counter and BS flag if the counter is still ``expected_sign_count`` (CAS)."""
        ...

    def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool:
        """Rename one of the user's credentials; False when the user has no such credential."""
        ...

    def remove_passkey(self, user_id: str, credential_id: str, *, allow_last: bool) -> bool:
        """Delete one of the user's credentials atomically; False when absent, or last and not allowed."""
        ...


class TotpFactors(Protocol):
    """Users' TOTP factors and their recovery codes (stored as MACs), each step and code used once."""

    def put_totp(self, factor: TotpFactor) -> None:
        """Create or replace the user's factor (an unconfirmed one, at enrolment)."""
        ...

    def get_totp(self, user_id: str) -> TotpFactor | None:
        """The user's factor, confirmed or not, or None."""
        ...

    def confirm_totp(self, user_id: str, step: int, recovery_hashes: Sequence[str]) -> bool:
        """Confirm an unconfirmed factor at ``step`` and replace its recovery codes, atomically."""
        ...

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used if it is newer than the last one (conditional write)."""
        ...

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Use up one unused recovery code of a confirmed factor; True for exactly one caller."""
        ...

    def replace_recovery_codes(self, user_id: str, recovery_hashes: Sequence[str]) -> None:
        """Drop every recovery code of the user and store these."""
        ...

    def remove_totp(self, user_id: str) -> None:
        """Delete the factor and its recovery codes."""
        ...


class RateCounters(Protocol):
    """Fixed-window hit counters for rate limits."""

    def count_hits(self, key: str, window: int) -> int:
        """How many hits ``key`` has in fixed window number ``window``."""
        ...

    def add_hit(self, key: str, window: int) -> int:
        """Count one hit for ``key`` in ``window`` atomically; the new count."""
        ...


class MailQueue(Protocol):
    """Mail waiting to be sent, so that no request waits for a mail relay and a crash loses none.

    Delivery is at least once: a claimed row whose sender dies becomes claimable again when its
    lease ends.
    """

    def enqueue_mail(self, mail: QueuedMail) -> None:
        """Store a new mail to send."""
        ...

    def claim_mail(self, now: float, lease_seconds: float) -> QueuedMail | None:
        """Atomically take the oldest mail due at ``now``: push its ``due_at`` to ``now + lease_seconds``
        and count one attempt; the row after that, or None when nothing is due. Of concurrent
        callers, exactly one gets a given row."""
        ...

    def release_mail(self, mail_id: str, due_at: float) -> None:
        """Make a claimed mail due again at ``due_at`` (a retry after a failed send)."""
        ...

    def delete_mail(self, mail_id: str) -> None:
        """Forget a mail: sent, expired, or given up."""
        ...


class SigningKeys(Protocol):
    """The provider's signing keys, private parts sealed."""

    def list_signing_keys(self) -> Sequence[SigningKeyRecord]:
        """Every stored signing key."""
        ...

    def replace_signing_keys(self, expected_current: str | None, keys: Sequence[SigningKeyRecord]) -> bool:
        """Swap in a new key set if the current ``kid`` is still ``expected_current`` (CAS)."""
        ...


@runtime_checkable
class UpstreamLinks(Protocol):
    """Federation: identities at upstream providers linked to users, and sign-ins in flight."""

    def link_upstream(self, link: UpstreamLink) -> bool:
        """Link an upstream identity; False (and nothing written) when it is already linked."""
        ...

    def find_upstream_link(self, upstream_id: str, subject: str) -> UpstreamLink | None:
        """The link of the identity (upstream id, ``sub``), or None."""
        ...

    def upstream_links_of(self, user_id: str) -> Sequence[UpstreamLink]:
        """Every identity linked to ``user_id``, oldest first."""
        ...

    def unlink_upstream(self, upstream_id: str, subject: str, user_id: str) -> bool:
        """Remove the identity's link to ``user_id`` and any tokens kept for it; True when there was one."""
        ...

    def keep_upstream_tokens(self, upstream_id: str, subject: str, user_id: str, sealed: bytes) -> bool:
        """Store the identity's sealed upstream tokens (replacing any); False unless linked to ``user_id``."""
        ...

    def upstream_tokens(self, upstream_id: str, subject: str) -> bytes | None:
        """The sealed upstream tokens kept for the identity, or None."""
        ...

    def save_upstream_login(self, login: UpstreamLogin) -> None:
        """Store a sign-in sent to an upstream provider."""
        ...

    def take_upstream_login(self, state_hash: str, now: float) -> UpstreamLogin | None:
        """Delete and return the live sign-in for ``state_hash``; None for every caller but one."""
        ...

    def mark_session_upstream(self, session_hash: str, upstream_id: str, expires_at: float) -> None:
        """Record that a session began with a sign-in at ``upstream_id``."""
        ...

    def session_upstream(self, session_hash: str, now: float) -> str | None:
        """The upstream a session began at, or None for a local sign-in."""
        ...


class Accounts(Protocol):
    """What a user sees and changes of their own account: sessions, applications, erasure."""

    def list_sessions(self, user_id: str, now: float) -> Sequence[Session]:
        """The user's live sessions (not ended, not expired), newest first."""
        ...

    def list_consents(self, user_id: str) -> Sequence[Consent]:
        """Every consent the user has given, by client id."""
        ...

    def list_grants(self, user_id: str, now: float) -> Sequence[Grant]:
        """The user's live grants (not revoked, not expired), newest first."""
        ...

    def erase_user(self, user_id: str, now: float) -> bool:
        """Delete the user and everything of theirs; False when there was no such user.

        Sessions, consents, passkeys, the TOTP factor and its recovery codes, linked upstream
        identities, one-time codes sent to the user's email or phone and passkey challenges
        go. Grants are revoked with every access token, their refresh tokens deleted where
        the store can find them, and each grant row kept only as a revocation marker with no
        user in it (so a token issued before still fails every revocation check until it
        expires).
        """
        ...


class Housekeeping(Protocol):
    """Removal of rows that can no longer matter, and letting go of connections."""

    def purge_expired(self, now: float) -> int:
        """Delete rows that can no longer matter; returns how many went."""
        ...

    def close(self) -> None:
        """Release this client's connections (the store may be used again: it reconnects)."""
        ...


class Store(
    ClientsAndUsers,
    Directory,
    AuthorizationCodes,
    TokenFamilies,
    SignIn,
    Consents,
    Passkeys,
    TotpFactors,
    RateCounters,
    MailQueue,
    SigningKeys,
    Accounts,
    Housekeeping,
    Protocol,
):
    """Persistence for the provider: every artefact kind's protocol in one."""


class FederatedStore(Store, UpstreamLinks, Protocol):
    """A store that also keeps federation's artefacts (every backend: see :class:`UpstreamLinks`)."""
