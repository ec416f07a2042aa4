"""Tokens in: verify bearer JWTs strictly and fast.

The names here are the whole verification surface; presets for common identity providers are
in :mod:`tessera.verify.presets`, the remote key cache in :mod:`tessera.verify.jwks`.
"""

from ..errors import ConfigurationError, KeyRejected, Reason, TesseraError, TokenError
from .claims import ANY, ClaimCheck, Claims
from .keys import VerificationKey
from .keyset import KeySet, KeySource
from .multi import MultiIssuerVerifier
from .verifier import Verifier

__all__ = [
    "ANY",
    "ClaimCheck",
    "Claims",
    "ConfigurationError",
    "KeyRejected",
    "KeySet",
    "KeySource",
    "MultiIssuerVerifier",
    "Reason",
    "TesseraError",
    "TokenError",
    "VerificationKey",
    "Verifier",
]
