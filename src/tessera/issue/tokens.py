"""Minting: RFC 9068 access tokens, OpenID Connect ID tokens, and opaque secrets."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from tessera.encoding import b64url_encode
from tessera.keys import SigningKey
from tessera.store import User

__all__ = ["access_token_claims", "at_hash", "id_token_claims", "new_secret"]


def new_secret() -> str:
    """A 256-bit random opaque value (codes, refresh tokens, session ids): AS-21."""
    return secrets.token_urlsafe(32)


def at_hash(access_token: str, key: SigningKey) -> str:
    """OIDC Core §3.1.3.6: left half of the hash of the access token, for the key's algorithm."""
    digest = hashlib.sha512 if key.alg == "EdDSA" else hashlib.sha256
    full = digest(access_token.encode("ascii")).digest()
    return b64url_encode(full[: len(full) // 2])


def access_token_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    scope: str,
    now: int,
    lifetime: int,
    user: User | None,
    auth_time: int | None,
) -> dict[str, Any]:
    """The claims of an RFC 9068 access token (``typ`` ``at+jwt`` is set when signing)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
        "client_id": client_id,
        "scope": scope,
    }
    if user is not None:
        claims["roles"] = list(user.roles)
        if auth_time is not None:
            claims["auth_time"] = auth_time
    return claims


def id_token_claims(
    *,
    issuer: str,
    user: User,
    client_id: str,
    scope: frozenset[str],
    now: int,
    lifetime: int,
    auth_time: int,
    nonce: str | None,
) -> dict[str, Any]:
    """The claims of an ID token for ``user`` (email and name only with their scopes).

    The signer adds ``at_hash`` once the access token is signed.
    """
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": user.user_id,
        "aud": client_id,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": auth_time,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    claims.update(user_claims(user, scope))
    return claims


def user_claims(user: User, scope: frozenset[str]) -> dict[str, Any]:
    """The profile claims ``scope`` releases (``email``, ``profile``)."""
    claims: dict[str, Any] = {}
    if "email" in scope:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    if "profile" in scope and user.name:
        claims["name"] = user.name
    return claims
