"""The verifier: one issuer, its keys, its algorithms and its claims policy, composed.

Order of work for every token: size limit, structure, header, canonical signature encoding,
the algorithm allowlist, the key named by ``kid`` (and the algorithms bound to it), the
signature, and only then the payload (strict base64url, strict JSON) and the claims policy. A
payload outside the base64url alphabet is reported as MALFORMED even when the signature fails.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..encoding import EncodingError, decode_checked_alphabet, json_object
from ..errors import ConfigurationError, Reason, TokenError
from . import jws
from .algorithms import ALGORITHMS, DEFAULT_ALGORITHMS, SYMMETRIC
from .claims import ANY, AnyValue, ClaimCheck, Claims, ClaimsPolicy
from .keys import VerificationKey
from .keyset import KeySet, KeySource

if TYPE_CHECKING:
    from .token_cache import TokenCache

__all__ = ["DEFAULT_CACHE_SIZE", "Verifier"]

DEFAULT_CACHE_SIZE = 1024
_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


def _default_required(token_type: str | AnyValue) -> frozenset[str]:
    required = {"iat", "sub"}
    if isinstance(token_type, str) and token_type.lower() in _ACCESS_TOKEN_TYPES:
        required |= {"client_id", "jti"}  # RFC 9068 §2.2
    return frozenset(required)


class Verifier:
    """Verifies bearer JWTs from one issuer.

    ``issuer``, ``audience`` and ``token_type`` must be given: pass :data:`ANY` to waive the
    audience or type check explicitly. Keys come from exactly one of ``keys`` (any
    :class:`KeySource`), ``jwks`` (a bundled JWKS mapping or file: no network at all),
    ``jwks_uri``, ``secret`` (HS256/384/512 only), or, when none is given, OpenID discovery
    from ``{issuer}/.well-known/openid-configuration``. Remote key sets are cached process-wide,
    so warm invocations never refetch.

    Example::

        verifier = Verifier(issuer="https://id.example.com", audience="orders-api",
                            token_type="at+jwt")
        claims = verifier.verify(token)   # raises TokenError
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Iterable[str] | AnyValue,
        token_type: str | AnyValue,
        keys: KeySource | None = None,
        jwks: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        jwks_uri: str | None = None,
        secret: bytes | None = None,
        algorithms: Iterable[str] | None = None,
        leeway_seconds: int = 60,
        max_age_seconds: int | None = None,
        required_claims: Iterable[str] | None = None,
        roles_claim: str | None = "roles",
        checks: Sequence[ClaimCheck] = (),
        max_token_bytes: int = jws.DEFAULT_MAX_TOKEN_BYTES,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sum(x is not None for x in (keys, jwks, jwks_uri, secret)) > 1:
            raise ConfigurationError("give at most one of keys, jwks, jwks_uri and secret")
        allowed = frozenset(algorithms) if algorithms is not None else None
        if allowed is not None:
            unknown = allowed - ALGORITHMS.keys()
            if unknown or not allowed:
                raise ConfigurationError("algorithms must be a non-empty list of supported JWS algorithms")
        if secret is not None:
            allowed = allowed if allowed is not None else SYMMETRIC
            keys = KeySet.from_secret(secret, allowed)
        else:
            allowed = allowed if allowed is not None else DEFAULT_ALGORITHMS
            if allowed & SYMMETRIC:
                raise ConfigurationError("HS algorithms need an explicitly configured secret")
            if jwks is not None:
                keys = KeySet.from_jwks(jwks)
            elif keys is None:
                from .jwks import remote_jwks

                keys = remote_jwks(issuer=issuer, jwks_uri=jwks_uri)
        if isinstance(audience, str):
            audiences: frozenset[str] | AnyValue = frozenset((audience,))
        elif isinstance(audience, AnyValue):
            audiences = ANY
        else:
            audiences = frozenset(audience)
        if type(max_token_bytes) is not int or not 256 <= max_token_bytes <= 65536:
            raise ConfigurationError("max_token_bytes must be between 256 and 65536")
        if type(cache_size) is not int or cache_size < 0:
            raise ConfigurationError("cache_size must be a non-negative whole number (0 turns the cache off)")
        self.issuer = issuer
        self.keys = keys
        self.algorithms = allowed
        self.policy = ClaimsPolicy(
            issuer=issuer,
            audiences=audiences,
            token_type=token_type,
            required=frozenset(required_claims)
            if required_claims is not None
            else _default_required(token_type),
            leeway=leeway_seconds,
            max_age=max_age_seconds,
            roles_claim=roles_claim,
            checks=tuple(checks),
        )
        self.max_token_bytes = max_token_bytes
        self._cache: TokenCache[Claims] | None = None
        if cache_size:
            from .token_cache import TokenCache

            self._cache = TokenCache(cache_size)
        self._clock = clock

    def verify(self, token: str | bytes) -> Claims:
        """Verify ``token`` and return its claims; raise :class:`~tessera.errors.TokenError`."""
        now = self._clock()
        if type(token) is not str or len(token) > self.max_token_bytes or not token.isascii():
            token = self._bytes(token)
        cache = self._cache
        if cache is not None:
            hit = cache.get(token, now)
            if hit is not None:
                return hit
        raw = token.encode("ascii") if isinstance(token, str) else token
        header, signing_input, payload_segment, signature = jws.split(raw)
        if header.alg not in self.algorithms:
            raise TokenError(Reason.ALGORITHM_NOT_ALLOWED)
        check = self.keys.get_key(header.kid).checks.get(header.alg)
        # From here on this is _finish, inlined on the hot path.
        if check is None:
            raise TokenError(Reason.ALGORITHM_NOT_ALLOWED)
        if not check(signature, signing_input):
            raise TokenError(Reason.BAD_SIGNATURE if jws.is_base64url(payload_segment) else Reason.MALFORMED)
        try:
            payload = json_object(decode_checked_alphabet(payload_segment))
        except EncodingError:
            raise TokenError(Reason.MALFORMED) from None
        claims = self.policy.apply(payload, header.typ, now)
        if cache is not None:
            cache.put(token, claims, claims.expires_at)
        return claims

    async def averify(self, token: str | bytes) -> Claims:
        """The async twin of :meth:`verify`: key fetches, if any, do not block the event loop."""
        now = self._clock()
        raw = self._bytes(token)
        cache_key = token if type(token) is str else raw
        cache = self._cache
        if cache is not None:
            hit = cache.get(cache_key, now)
            if hit is not None:
                return hit
        header, signing_input, payload_segment, signature = jws.split(raw)
        if header.alg not in self.algorithms:
            raise TokenError(Reason.ALGORITHM_NOT_ALLOWED)
        key = await self.keys.aget_key(header.kid)
        return self._finish(header, signing_input, payload_segment, signature, key, now, cache_key)

    def hydrate(self) -> None:
        """Load the keys now (at import time, say) instead of on the first verification."""
        hydrate = getattr(self.keys, "hydrate", None)
        if hydrate is not None:
            hydrate()

    def clear_cache(self) -> None:
        """Forget every remembered verification result."""
        if self._cache is not None:
            self._cache.clear()

    def _bytes(self, token: str | bytes) -> bytes:
        """The token as ASCII bytes within the size limit, before any decoding."""
        if type(token) is str:
            if len(token) > self.max_token_bytes:
                raise TokenError(Reason.TOO_LARGE)
            try:
                return token.encode("ascii")
            except UnicodeEncodeError:
                raise TokenError(Reason.MALFORMED) from None
        if type(token) is bytes:
            if len(token) > self.max_token_bytes:
                raise TokenError(Reason.TOO_LARGE)
            return token
        raise TokenError(Reason.MALFORMED)

    def _finish(  # noqa: PLR0917 - the parts of one token, unpacked once
        self,
        header: jws.Header,
        signing_input: bytes,
        payload_segment: bytes,
        signature: bytes,
        key: VerificationKey,
        now: float,
        cache_key: str | bytes,
    ) -> Claims:
        check = key.checks.get(header.alg)
        if check is None:
            raise TokenError(Reason.ALGORITHM_NOT_ALLOWED)
        if not check(signature, signing_input):
            # A payload outside the alphabet is malformed whatever its signature (see jws.split).
            raise TokenError(Reason.BAD_SIGNATURE if jws.is_base64url(payload_segment) else Reason.MALFORMED)
        try:
            payload = json_object(decode_checked_alphabet(payload_segment))
        except EncodingError:
            raise TokenError(Reason.MALFORMED) from None
        claims = self.policy.apply(payload, header.typ, now)
        if self._cache is not None:
            self._cache.put(cache_key, claims, claims.expires_at)
        return claims

    def __repr__(self) -> str:
        return f"Verifier(issuer={self.issuer!r}, algorithms={sorted(self.algorithms)})"
