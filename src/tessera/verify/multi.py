"""Trusting several issuers at once, without ever verifying a token against another's keys."""

from __future__ import annotations

from collections.abc import Iterable

from ..encoding import EncodingError, b64url_decode, json_object
from ..errors import ConfigurationError, Reason, TokenError
from .claims import Claims
from .jws import DEFAULT_MAX_TOKEN_BYTES
from .verifier import Verifier

__all__ = ["MultiIssuerVerifier"]


class MultiIssuerVerifier:
    """Routes each token to the verifier configured for its exact ``iss``.

    The unverified ``iss`` only selects which verifier runs; that verifier then checks the
    token with its own issuer's keys and policy, so a key of issuer A never verifies a token
    claiming issuer B (RFC 8725 §3.8). An unknown issuer triggers no discovery or fetch.
    """

    def __init__(self, verifiers: Iterable[Verifier]) -> None:
        self._by_issuer: dict[str, Verifier] = {}
        for verifier in verifiers:
            if verifier.issuer in self._by_issuer:
                raise ConfigurationError(f"two verifiers for the issuer {verifier.issuer!r}")
            self._by_issuer[verifier.issuer] = verifier
        if not self._by_issuer:
            raise ConfigurationError("at least one verifier is needed")
        self._max_bytes = max(v.max_token_bytes for v in self._by_issuer.values())

    @property
    def issuers(self) -> frozenset[str]:
        """The trusted issuers."""
        return frozenset(self._by_issuer)

    def verifier_for(self, token: str | bytes) -> Verifier:
        """The verifier for the token's claimed issuer; raise TokenError when it is not trusted."""
        if len(token) > max(self._max_bytes, DEFAULT_MAX_TOKEN_BYTES):
            raise TokenError(Reason.TOO_LARGE)
        text = token.decode("ascii", "replace") if isinstance(token, bytes) else token
        parts = text.split(".")
        if len(parts) != 3:
            raise TokenError(Reason.MALFORMED)
        try:
            iss = json_object(b64url_decode(parts[1])).get("iss")
        except EncodingError:
            raise TokenError(Reason.MALFORMED) from None
        verifier = self._by_issuer.get(iss) if type(iss) is str else None
        if verifier is None:
            raise TokenError(Reason.WRONG_ISSUER)
        return verifier

    def verify(self, token: str | bytes) -> Claims:
        """Verify ``token`` with its issuer's verifier."""
        return self.verifier_for(token).verify(token)

    async def averify(self, token: str | bytes) -> Claims:
        """The async twin of :meth:`verify`."""
        return await self.verifier_for(token).averify(token)

    def hydrate(self) -> None:
        """Load every issuer's keys now."""
        for verifier in self._by_issuer.values():
            verifier.hydrate()
