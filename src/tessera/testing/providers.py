"""Tokens shaped like the big identity providers' ones, minted offline for tests.

Each ``*_claims`` function returns the claim set that provider really issues (same claim
names, types and issuer string), for the given identifiers, valid from ``now`` for
``lifetime_seconds``. Keyword ``overrides`` replace claims; an override of ``None`` removes
the claim. Sign the result with a :class:`~tessera.testing.LocalIssuer` created with
``url=`` set to the provider's issuer, and serve its keys in the provider's own format
(:meth:`LocalIssuer.jwks` or :func:`x509_certificates`)::

    issuer = LocalIssuer(url=cognito_issuer("eu-west-1", "eu-west-1_AbC123"))
    token = issuer.mint(cognito_access_claims(region="eu-west-1", user_pool_id="eu-west-1_AbC123",
                                              client_id="app-client"), typ="JWT")
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from ..keys import SigningKey
from ..verify.presets.cognito import cognito_issuer

__all__ = [
    "EXAMPLE",
    "ProviderExample",
    "auth0_access_claims",
    "auth0_id_claims",
    "b2c_claims",
    "cognito_access_claims",
    "cognito_id_claims",
    "entra_external_id_claims",
    "firebase_id_claims",
    "google_id_claims",
    "x509_certificates",
]

DEFAULT_LIFETIME_SECONDS = 3600


class ProviderExample(NamedTuple):
    """Made-up but well-formed identifiers for each provider, shared by tests and fixtures."""

    cognito_region: str = "eu-west-1"
    cognito_user_pool_id: str = "eu-west-1_TessEra01"
    cognito_client_id: str = "3n4b5urk1ft4fl3mg5e62d9ado"
    auth0_domain: str = "tessera-test.eu.auth0.com"
    auth0_audience: str = "https://api.tessera.test"
    firebase_project_id: str = "tessera-test-1234"
    b2c_tenant: str = "tesseratest"
    b2c_tenant_id: str = "775527ff-9a37-4307-8b3d-cc311f58d925"
    b2c_policy: str = "B2C_1_signupsignin"
    entra_tenant_id: str = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
    api_client_id: str = "00001111-aaaa-2222-bbbb-3333cccc4444"
    google_client_id: str = "1234567890-tessera.apps.googleusercontent.com"


EXAMPLE = ProviderExample()


def _base_claims(
    *, iss: str, sub: str, aud: str | list[str] | None, now: float | None, lifetime_seconds: int
) -> dict[str, Any]:
    """The claims every provider's token has: ``iss``, ``sub``, ``aud`` (unless None), ``iat``, ``exp``.

    ``iat`` is ``now`` (the current time when None) and ``exp`` is ``lifetime_seconds`` later.
    """
    issued = int(time.time() if now is None else now)
    claims = {"iss": iss, "sub": sub, "aud": aud, "iat": issued, "exp": issued + lifetime_seconds}
    return {name: value for name, value in claims.items() if value is not None}


def _finish(
    claims: dict[str, Any], provider: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """``claims`` with the ``provider``'s own claims, then ``overrides``; None removes a claim."""
    merged = {**claims, **provider, **overrides}
    return {name: value for name, value in merged.items() if value is not None}


def _cognito_claims(
    base: dict[str, Any], token_use: Literal["access", "id"], groups: Iterable[str]
) -> dict[str, Any]:
    """What Cognito puts in both its access and ID tokens, beyond the base claims."""
    return {
        "cognito:groups": list(groups),
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "token_use": token_use,
        "auth_time": base["iat"],
        "jti": str(uuid.uuid4()),
    }


def cognito_access_claims(
    *,
    region: str,
    user_pool_id: str,
    client_id: str,
    sub: str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    username: str = "alice",
    groups: Iterable[str] = ("admins",),
    scope: str = "aws.cognito.signin.user.admin openid",
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """A Cognito user pool access token: ``token_use: "access"``, ``client_id``, no ``aud``."""
    iss = cognito_issuer(region, user_pool_id)
    base = _base_claims(iss=iss, sub=sub, aud=None, now=now, lifetime_seconds=lifetime_seconds)
    cognito = _cognito_claims(base, "access", groups)
    own = {"version": 2, "client_id": client_id, "scope": scope, "username": username}
    return _finish(base, {**cognito, **own}, overrides)


def cognito_id_claims(
    *,
    region: str,
    user_pool_id: str,
    client_id: str,
    sub: str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    username: str = "alice",
    email: str = "alice@example.com",
    groups: Iterable[str] = ("admins",),
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """A Cognito user pool ID token: ``token_use: "id"``, ``aud`` is the app client id."""
    iss = cognito_issuer(region, user_pool_id)
    base = _base_claims(iss=iss, sub=sub, aud=client_id, now=now, lifetime_seconds=lifetime_seconds)
    cognito = _cognito_claims(base, "id", groups)
    own = {"email_verified": True, "cognito:username": username, "email": email}
    return _finish(base, {**cognito, **own}, overrides)


def auth0_access_claims(
    *,
    domain: str,
    audience: str,
    client_id: str = "auth0-app-client-id",
    sub: str = "auth0|5f7c8ec7c33c6c004bbafe82",
    permissions: Iterable[str] = ("read:orders",),
    scope: str = "openid profile read:orders",
    profile: Literal["auth0", "rfc9068"] = "auth0",
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """An Auth0 access token for the API ``audience`` (RBAC on: ``permissions`` present).

    ``profile="rfc9068"`` gives the RFC 9068 token profile's claims (``client_id`` and
    ``jti`` instead of ``azp``); mint it with ``typ="at+jwt"`` as Auth0 does.
    """
    aud = [audience, f"https://{domain}/userinfo"]
    base = _base_claims(
        iss=f"https://{domain}/", sub=sub, aud=aud, now=now, lifetime_seconds=lifetime_seconds
    )
    own: dict[str, Any] = {"scope": scope, "permissions": list(permissions)}
    if profile == "rfc9068":
        own.update(client_id=client_id, jti=uuid.uuid4().hex)
    else:
        own["azp"] = client_id
    return _finish(base, own, overrides)


def auth0_id_claims(
    *,
    domain: str,
    client_id: str = "auth0-app-client-id",
    sub: str = "auth0|5f7c8ec7c33c6c004bbafe82",
    email: str = "alice@example.com",
    now: float | None = None,
    lifetime_seconds: int = 36000,
    **overrides: Any,
) -> dict[str, Any]:
    """An Auth0 ID token: ``aud`` is the application's client id."""
    iss = f"https://{domain}/"
    base = _base_claims(iss=iss, sub=sub, aud=client_id, now=now, lifetime_seconds=lifetime_seconds)
    own = {
        "nickname": email.split("@", maxsplit=1)[0],
        "name": email,
        "email": email,
        "email_verified": True,
        "sid": uuid.uuid4().hex,
        "nonce": uuid.uuid4().hex,
    }
    return _finish(base, own, overrides)


def firebase_id_claims(
    *,
    project_id: str,
    uid: str = "kRp3lYzq8uX0yOq2bD6Hn1fTqWc2",
    email: str = "alice@example.com",
    sign_in_provider: str = "password",
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """A Firebase Authentication ID token, with its ``firebase`` claim object.

    ``auth_time`` is 30 seconds before ``now`` unless overridden.
    """
    iss = f"https://securetoken.google.com/{project_id}"
    base = _base_claims(iss=iss, sub=uid, aud=project_id, now=now, lifetime_seconds=lifetime_seconds)
    own = {
        "auth_time": base["iat"] - 30,
        "user_id": uid,
        "email": email,
        "email_verified": True,
        "firebase": {"identities": {"email": [email]}, "sign_in_provider": sign_in_provider},
    }
    return _finish(base, own, overrides)


def b2c_claims(
    *,
    tenant: str,
    tenant_id: str,
    policy: str,
    client_id: str,
    sub: str = "b2b7a6c1-7f21-4c3b-9b0e-6b3f3a1f0d11",
    scope: str | None = "orders.read",
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """An Azure AD B2C token from a user flow, with the recommended ``iss`` form and ``tfp``.

    With ``scope`` (an access token for your API) it carries ``scp``; pass ``scope=None`` for
    an ID token shape. For the policy-specific issuer form, override
    ``iss=f"https://{tenant}.b2clogin.com/tfp/{tenant_id}/{policy.lower()}/v2.0/"``.
    """
    iss = f"https://{tenant}.b2clogin.com/{tenant_id}/v2.0/"
    base = _base_claims(iss=iss, sub=sub, aud=client_id, now=now, lifetime_seconds=lifetime_seconds)
    own = {
        "nbf": base["iat"],
        "oid": sub,
        "scp": scope,
        "azp": "b2c-spa-client-id",
        "ver": "1.0",
        "auth_time": base["iat"],
        "tfp": policy,
    }
    return _finish(base, own, overrides)


def entra_external_id_claims(
    *,
    tenant_id: str,
    client_id: str,
    sub: str = "Wv0lRtA9ZpZ0Zm2pU8gA3t7WkQ2fWm3tHq0yq7H2c3s",
    scope: str = "Orders.Read",
    roles: Iterable[str] = (),
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """A Microsoft Entra External ID v2.0 access token for the API ``client_id``."""
    iss = f"https://{tenant_id}.ciamlogin.com/{tenant_id}/v2.0"
    base = _base_claims(iss=iss, sub=sub, aud=client_id, now=now, lifetime_seconds=lifetime_seconds)
    own = {
        "nbf": base["iat"],
        "azp": "spa-client-id",
        "azpacr": "0",
        "oid": "8c7a0e5d-3b1f-4f8e-9a2d-1c0b7e6f5a4d",
        "roles": list(roles) or None,
        "scp": scope,
        "tid": tenant_id,
        "ver": "2.0",
    }
    return _finish(base, own, overrides)


def google_id_claims(
    *,
    client_id: str,
    issuer: str = "https://accounts.google.com",
    sub: str = "110169484474386276334",
    email: str = "alice@example.com",
    now: float | None = None,
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    **overrides: Any,
) -> dict[str, Any]:
    """A Google ID token for ``client_id`` (``azp`` equals it, as for a web sign-in)."""
    base = _base_claims(iss=issuer, sub=sub, aud=client_id, now=now, lifetime_seconds=lifetime_seconds)
    own = {
        "azp": client_id,
        "email": email,
        "email_verified": True,
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
        "name": "Alice Example",
        "given_name": "Alice",
        "family_name": "Example",
    }
    return _finish(base, own, overrides)


def x509_certificates(
    keys: Iterable[SigningKey],
    *,
    now: float | None = None,
    valid_seconds: int = 14 * 24 * 3600,
) -> dict[str, str]:
    """Google's x509 key document for ``keys``: ``{kid: self-signed PEM certificate}``.

    Each certificate is valid from ``now`` for ``valid_seconds``, as Google's are.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    start = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")])
    document: dict[str, str] = {}
    for key in keys:
        private = serialization.load_pem_private_key(key.private_pem(), password=None)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(seconds=valid_seconds))
            .sign(private, None if key.alg == "EdDSA" else hashes.SHA256())  # type: ignore[arg-type]
        )
        document[key.kid] = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return document
