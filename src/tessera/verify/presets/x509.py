"""Google's x509 key document: ``{kid: PEM certificate}``, as served for Firebase ID tokens.

``cryptography.x509`` costs several milliseconds of cold start, so it is imported only when a
document is parsed. Only RSA keys of at least 2048 bits are taken, for RS256 only.

Validity window: a certificate outside its ``notBefore``/``notAfter`` window at parse time
(with five minutes of slack for clock skew) is skipped. Google rotates these certificates
and removes expired ones, so a skipped key would only ever be a stale or premature one; the
key cache refetches on an unknown ``kid``, which picks up a key once its window opens.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ...errors import KeyRejected
from ..keys import VerificationKey, key_from_public_key
from ..keyset import MAX_JWKS_KEYS, JWKSError

__all__ = ["X509_CLOCK_SKEW_SECONDS", "parse_x509_certificates"]

X509_CLOCK_SKEW_SECONDS = 300
_MAX_PEM_CHARS = 8192


def _skip(kid: str, why: str) -> None:
    import logging  # on first use only: logging costs a cold start several milliseconds

    logging.getLogger("tessera.verify").warning("ignoring certificate %r: %s", kid, why)


def _load(kid: str, pem: str, now: float) -> VerificationKey | None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    if len(pem) > _MAX_PEM_CHARS:
        _skip(kid, "the certificate is too large")
        return None
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        _skip(kid, "not a PEM x509 certificate")
        return None
    not_before = certificate.not_valid_before_utc.timestamp()
    not_after = certificate.not_valid_after_utc.timestamp()
    if not not_before - X509_CLOCK_SKEW_SECONDS <= now <= not_after + X509_CLOCK_SKEW_SECONDS:
        _skip(kid, "outside its validity window")
        return None
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        _skip(kid, "not an RSA key")
        return None
    try:
        return key_from_public_key(public_key, ("RS256",), kid)
    except KeyRejected as exc:
        _skip(kid, exc.why)
        return None


def parse_x509_certificates(document: Any, *, now: float | None = None) -> dict[str | None, VerificationKey]:
    """Load the RS256 keys of a ``{kid: PEM certificate}`` document, indexed by ``kid``.

    Raises :class:`~tessera.verify.keyset.JWKSError` when the document is not an object of
    strings or holds too many entries. Unusable certificates (unparsable, not RSA, shorter
    than 2048 bits, outside their validity window at ``now``) are skipped with a warning.
    """
    if not isinstance(document, Mapping) or not all(
        isinstance(kid, str) and kid and isinstance(pem, str) for kid, pem in document.items()
    ):
        raise JWKSError("an x509 key document must map key ids to PEM certificates")
    if len(document) > MAX_JWKS_KEYS:
        raise JWKSError(f"the x509 key document holds more than {MAX_JWKS_KEYS} certificates")
    moment = time.time() if now is None else now
    keys: dict[str | None, VerificationKey] = {}
    for kid, pem in document.items():
        key = _load(kid, pem, moment)
        if key is not None:
            keys[kid] = key
    return keys
