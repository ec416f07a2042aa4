"""Errors as values with stable codes.

Every error Tessera raises derives from :class:`TesseraError`. A rejected token is always a
:class:`TokenError` whose ``error`` is an RFC 6750 code and whose ``reason`` is one member of the
finite :class:`Reason` set. Messages never contain a token, a key or a secret: they are built
from the reason (and, for claims, the claim's name) only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

__all__ = [
    "ConfigurationError",
    "KeyRejected",
    "Reason",
    "TesseraError",
    "TokenError",
]


class Reason(StrEnum):
    """Why a token was rejected. The set is closed: callers may switch on it."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    UNSUPPORTED_HEADER = "unsupported_header"
    UNKNOWN_KEY = "unknown_key"
    KEYS_UNAVAILABLE = "keys_unavailable"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    TOO_OLD = "too_old"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_TYPE = "wrong_type"
    MISSING_CLAIM = "missing_claim"
    INVALID_CLAIM = "invalid_claim"
    WRONG_CLIENT = "wrong_client"
    REVOKED = "revoked"
    # Request-level reasons, used by the protect layer.
    MISSING_TOKEN = "missing_token"
    INVALID_REQUEST = "invalid_request"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INSUFFICIENT_ROLE = "insufficient_role"
    CLAIM_REJECTED = "claim_rejected"


_REQUEST_REASONS = frozenset({Reason.INVALID_REQUEST})
_FORBIDDEN_REASONS = frozenset({Reason.INSUFFICIENT_SCOPE, Reason.INSUFFICIENT_ROLE, Reason.CLAIM_REJECTED})

_MESSAGES: dict[Reason, str] = {
    Reason.MALFORMED: "the token is not a well-formed compact JWS",
    Reason.TOO_LARGE: "the token is larger than the configured limit",
    Reason.ALGORITHM_NOT_ALLOWED: "the token's algorithm is not allowed for its key",
    Reason.UNSUPPORTED_HEADER: "the token header uses an unsupported or forbidden parameter",
    Reason.UNKNOWN_KEY: "no trusted key matches the token",
    Reason.KEYS_UNAVAILABLE: "the issuer's keys could not be obtained",
    Reason.BAD_SIGNATURE: "the signature does not verify",
    Reason.EXPIRED: "the token has expired",
    Reason.NOT_YET_VALID: "the token is not valid yet",
    Reason.ISSUED_IN_FUTURE: "the token was issued in the future",
    Reason.TOO_OLD: "the token is older than the allowed maximum age",
    Reason.WRONG_ISSUER: "the token was issued by an untrusted issuer",
    Reason.WRONG_AUDIENCE: "the token is not meant for this audience",
    Reason.WRONG_TYPE: "the token is not of the expected type",
    Reason.MISSING_CLAIM: "a required claim is missing",
    Reason.INVALID_CLAIM: "a claim has an invalid value",
    Reason.WRONG_CLIENT: "the token was issued to another client",
    Reason.REVOKED: "the token has been revoked",
    Reason.MISSING_TOKEN: "no bearer token was presented",
    Reason.INVALID_REQUEST: "the request carries the token in a malformed or ambiguous way",
    Reason.INSUFFICIENT_SCOPE: "the token lacks a required scope",
    Reason.INSUFFICIENT_ROLE: "the token lacks a required role",
    Reason.CLAIM_REJECTED: "the token's claims do not satisfy this resource's policy",
}


class TesseraError(Exception):
    """The root of every error Tessera raises."""

    code: ClassVar[str] = "tessera_error"


class ConfigurationError(TesseraError):
    """A setting is missing, unsafe or inconsistent; raised when the object is built, not later."""

    code = "configuration_error"


class KeyRejected(TesseraError):
    """A JWK is unusable for verification (weak, private, wrong use, unsupported type)."""

    code = "key_rejected"

    def __init__(self, why: str) -> None:
        super().__init__(f"key rejected: {why}")
        self.why = why


class TokenError(TesseraError):
    """A token or a bearer request was rejected.

    ``error`` is the RFC 6750 error code (``invalid_token``, ``invalid_request`` or
    ``insufficient_scope``); ``reason`` says why, from a closed set; ``claim`` names the claim
    at fault, when there is one. ``required_scopes`` lists the scopes a 403 should advertise.
    """

    code = "invalid_token"

    def __init__(
        self,
        reason: Reason,
        *,
        claim: str | None = None,
        required_scopes: tuple[str, ...] = (),
    ) -> None:
        message = _MESSAGES[reason]
        if claim is not None:
            message = f"{message} ({claim})"
        super().__init__(message)
        self.reason = reason
        self.claim = claim
        self.required_scopes = required_scopes

    @property
    def error(self) -> str:
        """The RFC 6750 ``error`` code for this rejection; empty when no token was presented."""
        if self.reason is Reason.MISSING_TOKEN:
            return ""
        if self.reason in _REQUEST_REASONS:
            return "invalid_request"
        if self.reason in _FORBIDDEN_REASONS:
            return "insufficient_scope"
        return "invalid_token"

    @property
    def status(self) -> int:
        """The HTTP status an RFC 6750 resource server answers with."""
        if self.reason in _REQUEST_REASONS:
            return 400
        if self.reason in _FORBIDDEN_REASONS:
            return 403
        return 401

    def __repr__(self) -> str:
        claim = f", claim={self.claim!r}" if self.claim else ""
        return f"TokenError({self.reason.value!r}{claim})"
