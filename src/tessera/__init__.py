"""Tessera: real authentication in front of serverless functions.

Verification, the part every invocation runs, is re-exported here; the protect adapters, the
identity provider and the CLI are imported from their own modules so that a cold start pays
only for what it uses.
"""

from .errors import ConfigurationError, KeyRejected, Reason, TesseraError, TokenError
from .verify import ANY, Claims, KeySet, MultiIssuerVerifier, Verifier

__all__ = [
    # verification
    "ANY",
    "Claims",
    "KeySet",
    "MultiIssuerVerifier",
    "Verifier",
    # errors
    "ConfigurationError",
    "KeyRejected",
    "Reason",
    "TesseraError",
    "TokenError",
]

__version__ = "0.1.0"
