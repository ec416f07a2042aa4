"""The provider's state and its core operations, independent of HTTP.

:class:`Provider` holds the settings, the store, the key ring, the mail queue and the clock; the
endpoints are thin translations of requests into calls on it. Nothing is kept between requests
except in the store, so any number of instances (Lambda containers) can serve one installation.
Sign-in by SMS (``sms``) exists when an :class:`~tessera.passwordless.sms.SmsSender` is given,
or in dev mode (texts go to the dev outbox).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from tessera.errors import ConfigurationError, Reason, TokenError
from tessera.issue.assurance import FEDERATED_AMR, acr_of
from tessera.issue.audit import AuditLog
from tessera.issue.cookies import CookieJar
from tessera.issue.mail.delivery import DevOutbox, Mailer
from tessera.issue.mail.outgoing import Outgoing
from tessera.issue.ratelimit import RateLimiter
from tessera.issue.resources import Target, choose_target
from tessera.issue.settings import ProviderSettings
from tessera.issue.signin.federation.flow import Federation
from tessera.issue.signin.federation.upstreams import Upstream
from tessera.issue.tokens import access_token_claims, at_hash, id_token_claims, new_secret
from tessera.issue.user_agents import browser_summary
from tessera.keys.ring import KeyRing
from tessera.keys.sealing import MasterKey
from tessera.keys.signing import SigningKey
from tessera.passwordless import EmailCodes
from tessera.passwordless.sms import DevSmsSender, SmsCodes, SmsSender
from tessera.store import (
    AccessTokenRecord,
    ClientRecord,
    FederatedStore,
    Grant,
    RefreshToken,
    Session,
    Store,
    UpstreamLinks,
    User,
    secret_hash,
)
from tessera.verify import Claims, Verifier

if TYPE_CHECKING:
    from tessera.passwordless.passkeys import Passkeys
    from tessera.passwordless.totp import Totp

__all__ = ["IssuedTokens", "Provider"]


@dataclass(frozen=True)
class IssuedTokens:
    """What the token endpoint returns; ``response()`` is the RFC 6749 §5.1 body."""

    access_token: str
    jti: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    id_token: str | None = None

    def response(self) -> dict[str, Any]:
        """The JSON body of a successful token response."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.id_token is not None:
            body["id_token"] = self.id_token
        return body


class Provider:
    """An OpenID Connect provider over a :class:`~tessera.store.Store`."""

    def __init__(
        self,
        settings: ProviderSettings,
        store: Store,
        master_key: MasterKey,
        mailer: Mailer,
        *,
        signing_alg: str = "RS256",
        clock: Callable[[], float] = time.time,
        outbox: DevOutbox | None = None,
        upstreams: tuple[Upstream, ...] = (),
        federation: Federation | None = None,
        sms_sender: SmsSender | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.mailer = mailer
        self.outbox = outbox if settings.dev_mode else None
        self._master_key = master_key
        self.keys = KeyRing(store, master_key, signing_alg, clock)
        self.keys.ensure()
        if sms_sender is None and self.outbox is not None:
            sms_sender = DevSmsSender(self.outbox)
        self.outgoing = Outgoing(store, master_key, mailer, clock=clock, sms_sender=sms_sender)
        self.codes = EmailCodes(
            store,
            master_key.derive("otp-pepper"),
            self.outgoing,
            issuer_name=settings.name,
            resend_interval_seconds=settings.sign_in_resend_seconds,
            failures_per_hour_per_source=settings.sign_in_failures_per_hour_per_address,
            short_code_failures_per_hour=settings.sign_in_short_code_failures_per_hour,
            clock=clock,
            signup=settings.signup,
        )
        self.sms = (
            SmsCodes(
                self.codes,
                store,
                self.outgoing,
                issuer_name=settings.name,
                sends_per_hour_per_number=settings.sms_sends_per_hour_per_number,
                sends_per_hour_per_country=settings.sms_sends_per_hour_per_country,
                default_region=settings.sms_default_region,
                clock=clock,
            )
            if sms_sender is not None
            else None
        )
        self.cookies = CookieJar(
            secure=settings.secure_cookies, origin=settings.origin, csrf_key=master_key.derive("csrf")
        )
        self.audit = AuditLog(clock)
        self.limits = RateLimiter(store, clock)
        self._last_purge = float("-inf")
        links = store if isinstance(store, UpstreamLinks) else None
        if links is None and (upstreams or federation is not None):
            raise ConfigurationError(
                "[[upstreams]] need a store that keeps upstream links (SQLite, PostgreSQL and DynamoDB "
                "do; this store does not)"
            )
        self._session_upstream = links.session_upstream if links is not None else None
        self.federation = federation or Federation(
            upstreams,
            issuer=settings.issuer,
            store=cast(FederatedStore, store),
            key=master_key.derive("federation"),
            signing_key=self.keys.signing_key,
            clock=clock,
            master_key=master_key,
        )
        self.verifier = Verifier(
            issuer=settings.issuer,
            audience=settings.accepted_audiences,
            token_type="at+jwt",
            keys=self.keys,
            algorithms=["RS256", "ES256", "EdDSA"],
            leeway_seconds=0,
            cache_size=0,
            clock=clock,
        )

    def now(self) -> float:
        """The provider's clock."""
        return self.clock()

    @cached_property
    def passkeys(self) -> Passkeys:
        """Passkey ceremonies for this issuer (py_webauthn is imported on first use only)."""
        from tessera.passwordless.passkeys import Passkeys, RelyingParty

        return Passkeys(self.store, RelyingParty.for_issuer(self.settings.issuer), clock=self.clock)

    @cached_property
    def totp(self) -> Totp:
        """Users' TOTP factors under this provider's name (pyotp and segno are imported on first use)."""
        from tessera.passwordless.totp import Totp

        return Totp(self.store, self._master_key, issuer_name=self.settings.name, clock=self.clock)

    def housekeeping(self) -> None:
        """Purge expired rows, at most once per ``purge_interval_seconds`` per instance.

        Called from busy endpoints; expiry is enforced on every read anyway (STO-09), so this
        only keeps the store small.
        """
        now = self.now()
        if now - self._last_purge >= self.settings.purge_interval_seconds:
            self._last_purge = now
            self.store.purge_expired(now)

    # sessions
    def start_session(self, user: User, amr: Sequence[str], method: str = "", user_agent: str = "") -> str:
        """Create a session for ``user`` signed in by ``amr`` (RFC 8176 methods, see :mod:`.assurance`).

        Returns the new cookie value (never a prior one: WEB-06). ``method`` is how the user
        signed in (``email_code``, ``magic_link``, ``sms``, ``passkey``); ``user_agent`` the
        request's ``User-Agent``, of which only a summary is kept (both are shown on the account
        page).
        """
        value = new_secret()
        now = self.now()
        self.store.create_session(
            Session(
                secret_hash(value),
                user.user_id,
                int(now),
                now + self.settings.session_seconds,
                amr=tuple(amr),
                method=method,
                user_agent=browser_summary(user_agent) if user_agent else "",
            )
        )
        return value

    def session_for(self, cookie_value: str | None) -> tuple[Session, User] | None:
        """The live session and its (enabled) user for a cookie value, or None."""
        if cookie_value is None:
            return None
        session = self.store.get_session(secret_hash(cookie_value), self.now())
        if session is None:
            return None
        user = self.store.get_user(session.user_id)
        if user is None or user.disabled:
            return None
        return session, user

    def start_federated_session(
        self, user: User, upstream_id: str, amr: Sequence[str] = FEDERATED_AMR
    ) -> str:
        """:meth:`start_session` for a sign-in at an upstream: its tokens will say ``amr`` fed, ``idp``.

        The mark outlives the session by the longest refresh lifetime, so refreshed tokens keep it.
        ``amr`` is more than ``fed`` when a second factor followed the upstream's sign-in.
        """
        value = self.start_session(user, amr, f"upstream:{upstream_id}")
        expires_at = self.now() + self.settings.session_seconds + self.settings.refresh_absolute_seconds
        self.federation.store.mark_session_upstream(secret_hash(value), upstream_id, expires_at)
        return value

    def session_upstream(self, session: Session) -> str | None:
        """The upstream provider a federated session began at, or None."""
        if "fed" not in session.amr or self._session_upstream is None:
            return None
        return self._session_upstream(session.session_hash, self.now())

    # tokens
    def issue(
        self,
        *,
        client: ClientRecord,
        grant: Grant | None,
        scope: str,
        user: User | None,
        refresh_token: str | None = None,
        nonce: str | None = None,
        id_token: bool = False,
        audience: str | None = None,
    ) -> IssuedTokens:
        """Sign an access token (and ID token) for ``grant``; record the access token's ``jti``.

        ``audience`` is the access token's ``aud`` (an API's, see :mod:`.resources`); by
        default the provider's own.

        ``grant`` is None for client_credentials, whose tokens belong to no family. Called
        inside the request's :func:`~tessera.issue.offload.off_loop` unit of work: a worker
        thread, where ``cryptography`` releases the GIL while it signs.
        """
        tokens, access_record = self.sign(
            client=client,
            grant=grant,
            scope=scope,
            user=user,
            refresh_token=refresh_token,
            nonce=nonce,
            id_token=id_token,
            audience=audience,
        )
        if access_record is not None:
            self.store.save_access_token(access_record)
        self.issued(client, user, grant)
        return tokens

    def sign(
        self,
        *,
        client: ClientRecord,
        grant: Grant | None,
        scope: str,
        user: User | None,
        refresh_token: str | None = None,
        nonce: str | None = None,
        id_token: bool = False,
        audience: str | None = None,
    ) -> tuple[IssuedTokens, AccessTokenRecord | None]:
        """:meth:`issue`'s tokens, and the record its access token needs, with nothing stored.

        The record is None without a grant. A refresh stores it in its rotation's transaction,
        then calls :meth:`issued`.
        """
        now = int(self.now())
        auth_time = grant.auth_time if grant is not None else None
        key = self.keys.signing_key()
        lifetime = self.settings.access_token_seconds
        signed_in_by = _sign_in_claims(grant.amr, grant.idp) if grant is not None else {}
        claims = access_token_claims(
            issuer=self.settings.issuer,
            audience=audience or self.settings.token_audience,
            subject=user.user_id if user is not None else client.client_id,
            client_id=client.client_id,
            scope=scope,
            now=now,
            lifetime=lifetime,
            user=user,
            auth_time=auth_time,
        )
        claims.update(signed_in_by)
        id_claims = None
        if id_token and user is not None and auth_time is not None:
            id_claims = id_token_claims(
                issuer=self.settings.issuer,
                user=user,
                client_id=client.client_id,
                scope=frozenset(scope.split()),
                now=now,
                lifetime=self.settings.id_token_seconds,
                auth_time=auth_time,
                nonce=nonce,
            )
            id_claims.update(signed_in_by)
        access_token, signed_id_token = _sign_tokens(key, claims, id_claims)
        tokens = IssuedTokens(access_token, claims["jti"], lifetime, scope, refresh_token, signed_id_token)
        if grant is None:
            return tokens, None
        return tokens, AccessTokenRecord(claims["jti"], client.client_id, grant.grant_id, now + lifetime)

    def issued(self, client: ClientRecord, user: User | None, grant: Grant | None) -> None:
        """Audit tokens handed out (after what they needed was stored)."""
        self.audit.event(
            "token_issued",
            client_id=client.client_id,
            user_id=user.user_id if user else None,
            grant_id=grant.grant_id if grant is not None else None,
        )

    def _signed_in_by(self, session_hash: str | None) -> tuple[tuple[str, ...], str | None]:
        """``amr`` of the session a grant is made under, and its upstream if it was federated.

        Read once, when the grant is made: the grant keeps them for every refresh.
        """
        if session_hash is None:
            return (), None
        now = self.now()
        session = self.store.get_session(session_hash, now)
        amr = session.amr if session is not None else ()
        upstream = None
        if self._session_upstream is not None and (not amr or "fed" in amr):
            upstream = self._session_upstream(session_hash, now)
        if upstream is not None and "fed" not in amr:
            amr = FEDERATED_AMR
        return tuple(amr), upstream

    def new_grant(
        self,
        *,
        grant_id: str | None,
        client: ClientRecord,
        user_id: str | None,
        scope: str,
        auth_time: int | None,
        session_hash: str | None,
        resource: str | None = None,
    ) -> Grant:
        """Record a grant (a token family) with its absolute expiry and the resource it is bound to."""
        now = self.now()
        amr, idp = self._signed_in_by(session_hash)
        grant = Grant(
            grant_id=grant_id or secrets.token_urlsafe(16),
            client_id=client.client_id,
            user_id=user_id,
            scope=scope,
            auth_time=auth_time,
            created_at=now,
            expires_at=now + self.settings.refresh_absolute_seconds,
            session_hash=session_hash,
            resource=resource,
            amr=amr,
            idp=idp,
        )
        self.store.create_grant(grant)
        return grant

    def new_refresh_token(self, grant: Grant) -> tuple[str, RefreshToken]:
        """A fresh refresh token for ``grant``: (secret, record); its idle expiry never outlives the grant."""
        now = self.now()
        value = new_secret()
        record = RefreshToken(
            token_hash=secret_hash(value),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            issued_at=now,
            expires_at=min(now + self.settings.refresh_idle_seconds, grant.expires_at),
        )
        return value, record

    def target(self, scopes: Sequence[str], resource: str | None) -> Target:
        """The access token's audience and scope for ``scopes`` and ``resource``; raise TargetError."""
        return choose_target(self.settings.apis, self.settings.token_audience, scopes, resource)

    def check_access_token(self, token: str) -> Claims:
        """Verify one of our access tokens, including revocation; raise TokenError."""
        claims = self.verifier.verify(token)
        self.not_revoked(claims, claims.token_type)
        return claims

    def not_revoked(self, claims: Mapping[str, Any], typ: str | None = None) -> None:
        """A claim check: the token was not revoked, nor was its grant. Raise TokenError.

        Tokens of a grant always have a record (saved when issued); a token without one is a
        client_credentials token that nobody revoked.
        """
        jti = claims.get("jti")
        if not isinstance(jti, str):
            raise TokenError(Reason.REVOKED)
        record = self.store.get_access_token(jti)
        if record is None:
            return
        if record.revoked:
            raise TokenError(Reason.REVOKED)
        if record.grant_id is not None:
            grant = self.store.get_grant(record.grant_id)
            if grant is None or grant.revoked:
                raise TokenError(Reason.REVOKED)


def _sign_in_claims(amr: Sequence[str], idp: str | None) -> dict[str, Any]:
    """The tokens' ``amr`` and ``acr`` (RFC 8176), and ``idp`` for a federated sign-in."""
    claims: dict[str, Any] = {"amr": list(amr), "acr": acr_of(amr)} if amr else {}
    if idp is not None:
        claims["idp"] = idp
    return claims


def _sign_tokens(
    key: SigningKey, access_claims: dict[str, Any], id_claims: dict[str, Any] | None
) -> tuple[str, str | None]:
    """The signed access token and, when ``id_claims`` are given, the ID token with its ``at_hash``."""
    access_token = key.sign_jwt(access_claims, typ="at+jwt")
    if id_claims is None:
        return access_token, None
    return access_token, key.sign_jwt({**id_claims, "at_hash": at_hash(access_token, key)}, typ="JWT")
