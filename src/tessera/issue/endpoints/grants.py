"""The three grants of ``/token``: authorization_code, refresh_token and client_credentials.

Refresh concurrency policy: a refresh token rotates on every use, by compare-and-swap, so of
any number of concurrent uses exactly one gets a successor. A rotated token presented again
within ``refresh_grace_seconds`` (default 10 s) of its rotation is refused with
``invalid_grant`` and the family survives: that is a second tab that lost the race, and it must
use the winner's token. Presented later, it is treated as stolen: the whole family (every
refresh and access token of the grant) is revoked. Two independent families never arise.
The successor's tokens are signed before the swap and its access token is recorded in the
swap's transaction, so a refresh is one write, and a lost race stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import NoReturn

from tessera.issue.provider import IssuedTokens, Provider
from tessera.issue.resources import Target, TargetError
from tessera.issue.subjects import client_id_problem
from tessera.store import ClientRecord, RefreshState, User, secret_hash

__all__ = ["GrantError", "authorization_code_grant", "client_credentials_grant", "refresh_token_grant"]

_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}", re.ASCII)


class GrantError(Exception):
    """An RFC 6749 §5.2 error (status 400)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _target(provider: Provider, scope: str, form: Mapping[str, str], bound: str | None) -> Target:
    """The audience and scope of the access token; ``bound`` is the resource the grant was asked for."""
    resource = form.get("resource")
    if bound is not None and resource is not None and resource != bound:
        raise GrantError("invalid_target", "the resource differs from the one authorized")
    try:
        return provider.target(scope.split(), resource or bound)
    except TargetError as exc:
        raise GrantError(exc.error, exc.description) from None


def _live_user(provider: Provider, user_id: str | None) -> User:
    user = provider.store.get_user(user_id) if user_id is not None else None
    if user is None or user.disabled:
        raise GrantError("invalid_grant", "the user can no longer sign in")
    return user


def _consent_holds(provider: Provider, client: ClientRecord, user: User, scope: str) -> None:
    """For a third-party client, the user's consent must still cover the grant (AS-49)."""
    if client.first_party:
        return
    consent = provider.store.get_consent(user.user_id, client.client_id)
    if consent is None or not consent.covers(scope.split()):
        raise GrantError("invalid_grant", "the user has not allowed this client this access")


def authorization_code_grant(
    provider: Provider, client: ClientRecord, form: Mapping[str, str]
) -> IssuedTokens:
    """Redeem a code: bound to client and redirect URI (checked before it is burned), then PKCE."""
    code = form.get("code")
    if code is None:
        raise GrantError("invalid_request", "code is required")
    now = provider.now()
    record = provider.store.get_code(secret_hash(code), now)
    if record is None or record.client_id != client.client_id:
        raise GrantError("invalid_grant", "the code is invalid, expired or was issued to another client")
    if record.consumed:
        _code_reused(provider, client, record.grant_id)
    if form.get("redirect_uri") != record.redirect_uri:
        raise GrantError("invalid_grant", "redirect_uri does not match the authorization request")
    if not provider.store.consume_code(record.code_hash, now):
        _code_reused(provider, client, record.grant_id)
    verifier = form.get("code_verifier")
    if record.code_challenge is None:
        if verifier is not None:
            raise GrantError("invalid_grant", "code_verifier sent for a request without code_challenge")
    elif (
        verifier is None
        or not _VERIFIER.fullmatch(verifier)
        or not hmac.compare_digest(_s256(verifier), record.code_challenge)
    ):
        raise GrantError("invalid_grant", "code_verifier does not match the code_challenge")
    user = _live_user(provider, record.user_id)
    _consent_holds(provider, client, user, record.scope)
    target = _target(provider, record.scope, form, record.resource)
    scopes = record.scope.split()
    wants_refresh = "offline_access" in scopes and "refresh_token" in client.grant_types
    grant = provider.new_grant(
        grant_id=record.grant_id,
        client=client,
        user_id=user.user_id,
        scope=record.scope,
        auth_time=record.auth_time,
        session_hash=record.session_hash,
        resource=record.resource,
    )
    refresh_value = None
    if wants_refresh:
        refresh_value, refresh_record = provider.new_refresh_token(grant)
        provider.store.save_refresh(refresh_record)
    return provider.issue(
        client=client,
        grant=grant,
        scope=target.scope,
        user=user,
        refresh_token=refresh_value,
        nonce=record.nonce,
        id_token="openid" in scopes,
        audience=target.audience,
    )


def _code_reused(provider: Provider, client: ClientRecord, grant_id: str) -> NoReturn:
    provider.store.revoke_grant(grant_id)
    provider.audit.event("code_reuse_detected", client_id=client.client_id, grant_id=grant_id)
    raise GrantError("invalid_grant", "the code is invalid, expired or was issued to another client")


def refresh_token_grant(provider: Provider, client: ClientRecord, form: Mapping[str, str]) -> IssuedTokens:
    """Rotate a refresh token (see the module docstring for the concurrency policy)."""
    value = form.get("refresh_token")
    if value is None:
        raise GrantError("invalid_request", "refresh_token is required")
    if "refresh_token" not in client.grant_types:
        raise GrantError("unauthorized_client", "this client may not use refresh tokens")
    now = provider.now()
    record = provider.store.get_refresh(secret_hash(value))
    if record is None or record.client_id != client.client_id:
        raise GrantError("invalid_grant", "the refresh token is invalid")
    grant = provider.store.get_grant(record.grant_id)
    if grant is None or grant.revoked or grant.expires_at <= now:
        raise GrantError("invalid_grant", "the refresh token is invalid")
    if record.state is RefreshState.ROTATED:
        _replayed(provider, client, record.grant_id, record.rotated_at, now)
    if record.expires_at <= now:
        raise GrantError("invalid_grant", "the refresh token is invalid")
    user = _live_user(provider, grant.user_id)
    _consent_holds(provider, client, user, grant.scope)
    granted = grant.scope.split()
    requested = form.get("scope")
    scope = grant.scope
    if requested is not None:
        if not set(requested.split(" ")) <= set(granted):
            raise GrantError("invalid_scope", "a refresh cannot add scopes")
        scope = " ".join(s for s in granted if s in set(requested.split(" ")))
    target = _target(provider, scope, form, grant.resource)
    successor_value, successor = provider.new_refresh_token(grant)
    tokens, access_record = provider.sign(
        client=client,
        grant=grant,
        scope=target.scope,
        user=user,
        refresh_token=successor_value,
        id_token="openid" in scope.split(),
        audience=target.audience,
    )
    rotation = provider.store.rotate_refresh(record.token_hash, successor, now, access_record)
    if not rotation.rotated:
        previous = rotation.previous
        if previous is not None and previous.state is RefreshState.ROTATED:
            _replayed(provider, client, record.grant_id, previous.rotated_at, now)
        raise GrantError("invalid_grant", "the refresh token is invalid")
    provider.issued(client, user, grant)
    return tokens


def _replayed(
    provider: Provider, client: ClientRecord, grant_id: str, rotated_at: float | None, now: float
) -> NoReturn:
    if rotated_at is not None and now - rotated_at <= provider.settings.refresh_grace_seconds:
        raise GrantError("invalid_grant", "the refresh token was just rotated; use its successor")
    provider.store.revoke_grant(grant_id)
    provider.audit.event("refresh_reuse_detected", client_id=client.client_id, grant_id=grant_id)
    raise GrantError("invalid_grant", "the refresh token is invalid")


def client_credentials_grant(
    provider: Provider, client: ClientRecord, form: Mapping[str, str]
) -> IssuedTokens:
    """A token for the client itself (confidential clients only)."""
    if client.public or "client_credentials" not in client.grant_types:
        raise GrantError("unauthorized_client", "this client may not use client_credentials")
    if client_id_problem(provider.store, client.client_id) is not None:
        # Stored past register_client, or a user took the id since: its sub would name a user.
        raise GrantError("unauthorized_client", "this client's id could be a user's subject")
    requested = form.get("scope")
    allowed = [s for s in client.scopes if s not in ("openid", "offline_access")]
    if requested is None:
        scope = " ".join(allowed)
    else:
        wanted = requested.split(" ")
        if "" in wanted or not set(wanted) <= set(allowed):
            raise GrantError("invalid_scope", "a requested scope is not allowed for this client")
        scope = " ".join(wanted)
    target = _target(provider, scope, form, None)
    return provider.issue(client=client, grant=None, scope=target.scope, user=None, audience=target.audience)
