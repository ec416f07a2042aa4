"""Client authentication at the token, revocation and introspection endpoints.

Methods: ``client_secret_basic``, ``client_secret_post`` (secrets stored as SHA-256 of at least
256 random bits, compared in constant time), ``private_key_jwt`` (RFC 7523, verified with
:class:`tessera.verify.Verifier`, ``jti`` single-use), and ``none`` for public clients. A
request that uses more than one method is refused (AS-39); unknown clients and wrong secrets
get the same answer (AS-38).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from tessera.encoding import EncodingError, b64url_decode, json_object
from tessera.errors import Reason, TesseraError, TokenError
from tessera.issue.provider import Provider
from tessera.issue.web import BadParameters, oauth_error, read_form
from tessera.store import ClientRecord
from tessera.verify import ANY, Verifier

__all__ = [
    "ASSERTION_TYPE",
    "ClientAuthError",
    "authenticate_client",
    "authenticated",
    "client_form",
    "hash_client_secret",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_DUMMY_HASH = hashlib.sha256(b"no such client").hexdigest()
MAX_CLIENT_ID = 256
MAX_ASSERTION = 8192


class ClientAuthError(Exception):
    """Client authentication failed: ``invalid_client`` (401), ``invalid_request`` (400), or 429."""

    def __init__(
        self,
        error: str,
        *,
        used_header: bool = False,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.used_header = used_header
        self.description = description
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        """429 when rate-limited, 401 for ``invalid_client``, else 400."""
        if self.retry_after is not None:
            return 429
        return 401 if self.error == "invalid_client" else 400

    @property
    def headers(self) -> dict[str, str]:
        """``WWW-Authenticate`` when the client tried the Authorization header (RFC 6749 §5.2)."""
        if self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        if self.error == "invalid_client" and self.used_header:
            return {"WWW-Authenticate": 'Basic realm="tessera"'}
        return {}


def hash_client_secret(secret: str) -> str:
    """The stored form of a client secret (which must be high-entropy: 32 characters or more)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or " " in encoded.strip():
        raise ClientAuthError("invalid_client", used_header=True)
    try:
        decoded = binascii.a2b_base64(encoded.strip(), strict_mode=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ClientAuthError("invalid_client", used_header=True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ClientAuthError("invalid_client", used_header=True)
    return unquote_plus(client_id, errors="strict"), unquote_plus(secret, errors="strict")


def _secret_matches(client: ClientRecord | None, secret: str) -> bool:
    expected = client.secret_hash if client is not None and client.secret_hash else _DUMMY_HASH
    return hmac.compare_digest(hash_client_secret(secret), expected) and client is not None


def _limited(provider: Provider, client_id: str) -> None:
    wait = provider.limits.over(f"client-auth:{client_id}", provider.settings.client_auth_failures_per_minute)
    if wait is not None:
        raise ClientAuthError("invalid_request", description="too many failed attempts", retry_after=wait)


def _failed(provider: Provider, client_id: str) -> None:
    provider.limits.hit(f"client-auth:{client_id}", provider.settings.client_auth_failures_per_minute)


def authenticate_client(provider: Provider, request: Request, form: Mapping[str, str]) -> ClientRecord:
    """The authenticated client of a back-channel request; raise :class:`ClientAuthError`.

    Failed attempts are counted per ``client_id``; past the limit even a right secret waits
    (AS-57), while other clients are unaffected.
    """
    headers = request.headers.getlist("authorization")
    header = headers[0] if headers else None
    used_header = header is not None
    methods = [
        name
        for name, present in (
            ("client_secret_basic", used_header),
            ("client_secret_post", "client_secret" in form),
            ("private_key_jwt", "client_assertion" in form or "client_assertion_type" in form),
        )
        if present
    ]
    if len(methods) > 1 or len(headers) > 1:
        raise ClientAuthError(
            "invalid_request", used_header=used_header, description="use one client authentication method"
        )
    method = methods[0] if methods else "none"
    try:
        if method == "client_secret_basic":
            client_id, secret = _basic_credentials(header or "")
            if "client_id" in form and form["client_id"] != client_id:
                raise ClientAuthError("invalid_request", used_header=True, description="client_id differs")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    except UnicodeDecodeError:
        raise ClientAuthError("invalid_client", used_header=used_header) from None
    if method == "private_key_jwt":
        return _assertion_client(provider, form)
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        raise ClientAuthError("invalid_client", used_header=used_header)
    client = provider.store.get_client(client_id)
    if method == "none":
        if client is None or not client.public:
            raise ClientAuthError("invalid_client")
        return client
    _limited(provider, client_id)
    if not _secret_matches(client, secret) or client is None or method not in client.auth_methods:
        _failed(provider, client_id)
        provider.audit.event("client_auth_failed", client_id=client.client_id if client else None)
        raise ClientAuthError("invalid_client", used_header=used_header)
    return client


def _assertion_client(provider: Provider, form: Mapping[str, str]) -> ClientRecord:
    assertion = form.get("client_assertion", "")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion or len(assertion) > MAX_ASSERTION:
        raise ClientAuthError("invalid_client")
    try:
        payload = json_object(b64url_decode(assertion.split(".")[1])) if assertion.count(".") == 2 else {}
    except EncodingError:
        payload = {}
    client_id = payload.get("iss")
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID:
        raise ClientAuthError("invalid_client")
    if "client_id" in form and form["client_id"] != client_id:
        raise ClientAuthError("invalid_client")
    _limited(provider, client_id)
    client = provider.store.get_client(client_id)
    if client is None or client.jwks is None or "private_key_jwt" not in client.auth_methods:
        _failed(provider, client_id)
        raise ClientAuthError("invalid_client")
    issuer = provider.settings.issuer

    def audience_is_issuer(claims: Mapping[str, Any], typ: str | None) -> None:
        if claims.get("aud") != issuer or claims.get("sub") != client_id:
            raise TokenError(Reason.WRONG_AUDIENCE)
        if claims["exp"] - provider.now() > provider.settings.client_assertion_max_seconds:
            raise TokenError(Reason.INVALID_CLAIM, claim="exp")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise TokenError(Reason.INVALID_CLAIM, claim="jti")

    try:
        verifier = Verifier(
            issuer=client_id,
            audience=ANY,
            token_type=ANY,
            jwks=client.jwks,
            required_claims=("sub", "jti", "aud"),
            leeway_seconds=30,
            checks=(audience_is_issuer,),
            cache_size=0,
            clock=provider.clock,
        )
        claims = verifier.verify(assertion)
    except TesseraError:
        _failed(provider, client_id)
        provider.audit.event("client_auth_failed", client_id=client_id)
        raise ClientAuthError("invalid_client") from None
    if not provider.store.remember_jti(
        f"client:{client_id}", claims["jti"], float(claims["exp"]) + 60, provider.now()
    ):
        provider.audit.event("client_auth_failed", client_id=client_id, reason="jti_replay")
        raise ClientAuthError("invalid_client")
    return client


async def client_form(request: Request) -> dict[str, str] | Response:
    """The form of a client-authenticated POST, read on the loop; or the RFC 6749 §5.2 error to send."""
    try:
        return await read_form(request)
    except BadParameters as exc:
        return oauth_error("invalid_request", exc.description)


def authenticated(provider: Provider, request: Request, form: Mapping[str, str]) -> ClientRecord | Response:
    """The client that ``form`` authenticates (store calls: run it off the loop); or the error to send."""
    try:
        return authenticate_client(provider, request, form)
    except ClientAuthError as exc:
        return oauth_error(exc.error, exc.description, exc.status, exc.headers)
