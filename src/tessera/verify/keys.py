"""Verification keys: a JWK (or a shared secret) parsed once into a typed, ready key.

A :class:`VerificationKey` holds one loaded ``cryptography`` key object and, for each algorithm
it may verify, a prepared verify function. The set of algorithms is fixed when the key is
loaded, from its type, curve, size, its own ``alg`` and the configured allowlist, so the
token's header can only choose among them (RFC 8725 §3.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..encoding import EncodingError, b64url_decode
from ..errors import ConfigurationError, KeyRejected
from .algorithms import ALGORITHMS, ASYMMETRIC, SYMMETRIC, Algorithm

__all__ = [
    "MIN_RSA_BITS",
    "VerificationKey",
    "der_signature",
    "key_from_jwk",
    "key_from_public_key",
    "key_from_secret",
]

MIN_RSA_BITS = 2048
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_EC_SIZES = {"P-256": 32, "P-384": 48, "P-521": 66}

SignatureCheck = Callable[[bytes, bytes], bool]


class VerificationKey:
    """A public key (or shared secret) and the algorithms it may verify."""

    __slots__ = ("algorithms", "checks", "kid", "kty")

    def __init__(self, kid: str | None, kty: str, checks: Mapping[str, SignatureCheck]) -> None:
        self.kid = kid
        self.kty = kty
        self.checks: Mapping[str, SignatureCheck] = dict(checks)
        """The verify function of each algorithm this key may verify: ``check(signature, data)``."""
        self.algorithms = frozenset(self.checks)

    def check(self, alg: str) -> SignatureCheck | None:
        """The verify function for ``alg``, or None when this key may not verify it."""
        return self.checks.get(alg)

    def __repr__(self) -> str:
        return f"VerificationKey(kid={self.kid!r}, kty={self.kty!r}, algorithms={sorted(self.algorithms)})"


def hash_algorithm(name: str) -> Any:
    """The ``cryptography`` hash object for ``sha256``, ``sha384`` or ``sha512``."""
    from cryptography.hazmat.primitives import hashes

    if name == "sha256":
        return hashes.SHA256()
    if name == "sha384":
        return hashes.SHA384()
    if name == "sha512":
        return hashes.SHA512()
    raise ValueError(name)


def ec_curve(crv: str) -> Any:
    """The ``cryptography`` curve object for a JWK ``crv``."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if crv == "P-256":
        return ec.SECP256R1()
    if crv == "P-384":
        return ec.SECP384R1()
    if crv == "P-521":
        return ec.SECP521R1()
    raise ValueError(crv)


def _rsa_check(public_key: Any, alg: Algorithm) -> SignatureCheck:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    digest = hash_algorithm(alg.hash_name)
    pad: Any = (
        padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        if alg.pss
        else padding.PKCS1v15()
    )
    expected_len = (public_key.key_size + 7) // 8
    verify = public_key.verify

    def check(signature: bytes, data: bytes) -> bool:
        if len(signature) != expected_len:
            return False
        try:
            verify(signature, data, pad, digest)
        except InvalidSignature:
            return False
        return True

    return check


def _der_integer(big_endian: bytes) -> bytes | None:
    """The DER INTEGER content of an unsigned big-endian number; None for zero."""
    digits = big_endian.lstrip(b"\0")
    if not digits:
        return None
    return b"\0" + digits if digits[0] & 0x80 else digits


def der_signature(signature: bytes, size: int) -> bytes | None:
    """JWS's fixed-width ``r || s`` as the DER ``SEQUENCE { INTEGER r, INTEGER s }`` OpenSSL takes.

    None when r or s is zero (a signature that can never be valid). ``size`` is the width of
    one coordinate, so the integers stay under 128 bytes and only the sequence may need the
    long length form (P-521).
    """
    r = _der_integer(signature[:size])
    s = _der_integer(signature[size:])
    if r is None or s is None:
        return None
    body = b"\x02%c%s\x02%c%s" % (len(r), r, len(s), s)
    return (b"\x30%c" % len(body) if len(body) < 128 else b"\x30\x81%c" % len(body)) + body


def _ec_check(public_key: Any, alg: Algorithm) -> SignatureCheck:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    digest = hash_algorithm(alg.hash_name)
    ecdsa = ec.ECDSA(digest)
    size = alg.coordinate_bytes
    verify = public_key.verify

    def check(signature: bytes, data: bytes) -> bool:
        # JWS carries the fixed-width r || s pair; DER is never accepted here (RFC 7518 §3.4).
        if len(signature) != 2 * size:
            return False
        der = der_signature(signature, size)
        if der is None:
            return False
        try:
            verify(der, data, ecdsa)
        except InvalidSignature:
            return False
        return True

    return check


def _ed25519_check(public_key: Any) -> SignatureCheck:
    from cryptography.exceptions import InvalidSignature

    verify = public_key.verify

    def check(signature: bytes, data: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return check


def _hmac_check(secret: bytes, alg: Algorithm) -> SignatureCheck:
    import hmac

    digest, compare, name = hmac.digest, hmac.compare_digest, alg.hash_name

    def check(signature: bytes, data: bytes) -> bool:
        return compare(digest(secret, data, name), signature)

    return check


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyRejected(f"member {name!r} is missing or not a string")
    try:
        return b64url_decode(value)
    except EncodingError as exc:
        raise KeyRejected(f"member {name!r} is not base64url") from exc


def _fitting(kty: str, crv: str | None, allowed: Iterable[str]) -> list[Algorithm]:
    return [
        ALGORITHMS[name]
        for name in sorted(allowed)
        if name in ASYMMETRIC and ALGORITHMS[name].kty == kty and ALGORITHMS[name].crv == crv
    ]


def _load_public_key(jwk: Mapping[str, Any], kty: str) -> tuple[Any, str | None]:
    """Build the ``cryptography`` public key for a JWK; returns (key, curve)."""
    if kty == "RSA":
        from cryptography.hazmat.primitives.asymmetric import rsa

        n = int.from_bytes(_member(jwk, "n"), "big")
        e = int.from_bytes(_member(jwk, "e"), "big")
        if n.bit_length() < MIN_RSA_BITS:
            raise KeyRejected(f"RSA modulus shorter than {MIN_RSA_BITS} bits")
        if e < 3 or e % 2 == 0:
            raise KeyRejected("RSA public exponent is not an odd number of at least 3")
        try:
            return rsa.RSAPublicNumbers(e, n).public_key(), None
        except ValueError as exc:
            raise KeyRejected("RSA public numbers are invalid") from exc
    crv = jwk.get("crv")
    if kty == "EC":
        from cryptography.hazmat.primitives.asymmetric import ec

        if crv not in _EC_SIZES:
            raise KeyRejected("EC key has a missing or unsupported curve")
        size = _EC_SIZES[crv]
        x, y = _member(jwk, "x"), _member(jwk, "y")
        if len(x) != size or len(y) != size:
            raise KeyRejected("EC coordinates have the wrong length for the curve")
        curve = ec_curve(crv)
        try:
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve)
            return numbers.public_key(), crv
        except ValueError as exc:  # not on the curve, or the point at infinity
            raise KeyRejected("EC point is not on the curve") from exc
    if kty == "OKP":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        if crv != "Ed25519":
            raise KeyRejected("OKP key has a missing or unsupported curve")
        x = _member(jwk, "x")
        if len(x) != 32:
            raise KeyRejected("Ed25519 key has the wrong length")
        try:
            return ed25519.Ed25519PublicKey.from_public_bytes(x), crv
        except ValueError as exc:
            raise KeyRejected("Ed25519 key is invalid") from exc
    if kty == "oct":
        raise KeyRejected("symmetric keys are never taken from a key set")
    raise KeyRejected("unsupported key type")


def _checks_for(public_key: Any, algorithms: list[Algorithm]) -> dict[str, SignatureCheck]:
    checks: dict[str, SignatureCheck] = {}
    for alg in algorithms:
        if alg.kty == "RSA":
            checks[alg.name] = _rsa_check(public_key, alg)
        elif alg.kty == "EC":
            checks[alg.name] = _ec_check(public_key, alg)
        else:
            checks[alg.name] = _ed25519_check(public_key)
    return checks


def key_from_jwk(jwk: Mapping[str, Any], allowed: Iterable[str]) -> VerificationKey:
    """Load a public JWK for the ``allowed`` algorithms; raise :class:`KeyRejected` if unusable.

    The key must be public, meant for signatures (``use`` absent or ``sig``, ``key_ops``
    absent or containing ``verify``) and strong enough. Its own ``alg``, when present, must be
    an asymmetric algorithm that fits it, and is then the only one it verifies.
    """
    if not isinstance(jwk, Mapping):
        raise KeyRejected("a JWK must be a JSON object")
    kty = jwk.get("kty")
    if not isinstance(kty, str):
        raise KeyRejected("member 'kty' is missing or not a string")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise KeyRejected("the key set contains private or symmetric key material")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise KeyRejected("member 'kid' is not a string")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise KeyRejected("the key is not meant for signatures")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise KeyRejected("the key's operations do not include verify")
    public_key, crv = _load_public_key(jwk, kty)
    algorithms = _fitting(kty, crv, allowed)
    own_alg = jwk.get("alg")
    if own_alg is not None:
        if not isinstance(own_alg, str) or own_alg not in ASYMMETRIC:
            raise KeyRejected("the key's own alg is not a supported asymmetric algorithm")
        if ALGORITHMS[own_alg].kty != kty or ALGORITHMS[own_alg].crv != crv:
            raise KeyRejected("the key's own alg does not fit its type or curve")
        algorithms = [a for a in algorithms if a.name == own_alg]
    return VerificationKey(kid, kty, _checks_for(public_key, algorithms))


def key_from_public_key(public_key: Any, allowed: Iterable[str], kid: str | None = None) -> VerificationKey:
    """Wrap an already-loaded ``cryptography`` public key (RSA, EC or Ed25519)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise KeyRejected(f"RSA modulus shorter than {MIN_RSA_BITS} bits")
        kty, crv = "RSA", None
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        if public_key.curve.name not in names:
            raise KeyRejected("EC key has an unsupported curve")
        kty, crv = "EC", names[public_key.curve.name]
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        kty, crv = "OKP", "Ed25519"
    else:
        raise KeyRejected("unsupported key type")
    return VerificationKey(kid, kty, _checks_for(public_key, _fitting(kty, crv, allowed)))


def key_from_secret(secret: bytes, allowed: Iterable[str], kid: str | None = None) -> VerificationKey:
    """A shared-secret key for the HS* algorithms in ``allowed`` that the secret is long enough for.

    RFC 7518 §3.2: the secret must be at least as long as the hash output, so a 32-byte secret
    serves HS256 only. A secret too short for every allowed HS algorithm is refused.
    """
    if not isinstance(secret, bytes):
        raise ConfigurationError("the shared secret must be bytes")
    sizes = {"sha256": 32, "sha384": 48, "sha512": 64}
    algorithms = [
        ALGORITHMS[name]
        for name in sorted(set(allowed) & SYMMETRIC)
        if len(secret) >= sizes[ALGORITHMS[name].hash_name]
    ]
    if not algorithms:
        raise ConfigurationError(
            "the shared secret is too short for every allowed HS algorithm (HS256 needs 32 bytes)"
        )
    return VerificationKey(kid, "oct", {a.name: _hmac_check(secret, a) for a in algorithms})
