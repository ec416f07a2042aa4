"""Private signing keys and compact JWS signing over ``cryptography``.

Key ids are RFC 7638 thumbprints, so a ``kid`` never names two different keys (VER-58).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..encoding import b64url_decode, b64url_encode, b64url_uint, json_dumps
from ..errors import ConfigurationError
from ..verify.algorithms import ALGORITHMS
from ..verify.keys import ec_curve, hash_algorithm

__all__ = ["SigningKey", "sign_compact", "thumbprint"]

_REQUIRED_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}


def thumbprint(public_jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK, base64url-encoded."""
    members = {name: public_jwk[name] for name in _REQUIRED_MEMBERS[public_jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(canonical).digest())


class SigningKey:
    """A private key bound to one JWS algorithm, with its public JWK and ``kid``."""

    __slots__ = ("_headers", "_private", "alg", "kid")

    def __init__(self, private_key: Any, alg: str, kid: str | None = None) -> None:
        if alg not in ALGORITHMS or ALGORITHMS[alg].kty == "oct":
            raise ConfigurationError(f"{alg!r} is not an asymmetric signing algorithm")
        self._private = private_key
        self._headers: dict[str | None, str] = {}  # encoded protected header by typ (no extra members)
        self.alg = alg
        self.kid = kid if kid is not None else thumbprint(self.public_jwk(include_meta=False))

    @classmethod
    def generate(cls, alg: str = "RS256", kid: str | None = None, rsa_bits: int = 2048) -> SigningKey:
        """A new random key for ``alg`` (RSA 2048 by default for RS*/PS*)."""
        spec = ALGORITHMS.get(alg)
        if spec is None:
            raise ConfigurationError(f"unsupported algorithm {alg!r}")
        private: Any
        if spec.kty == "RSA":
            private = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        elif spec.kty == "EC":
            private = ec.generate_private_key(ec_curve(spec.crv or ""))
        elif spec.kty == "OKP":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ConfigurationError("symmetric keys are not signing keys; use a shared secret")
        return cls(private, alg, kid)

    @classmethod
    def from_pem(
        cls, pem: bytes, alg: str, kid: str | None = None, password: bytes | None = None
    ) -> SigningKey:
        """Load a PKCS#8 (or traditional) PEM private key."""
        return cls(serialization.load_pem_private_key(pem, password=password), alg, kid)

    def private_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when ``password`` is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self._private.private_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @property
    def public_key(self) -> Any:
        """The ``cryptography`` public key."""
        return self._private.public_key()

    def public_jwk(self, include_meta: bool = True) -> dict[str, Any]:
        """The public JWK; with ``include_meta``, also ``kid``, ``alg`` and ``use``."""
        pub = self.public_key
        jwk: dict[str, Any]
        if isinstance(pub, rsa.RSAPublicKey):
            rsa_numbers = pub.public_numbers()
            jwk = {"kty": "RSA", "n": b64url_uint(rsa_numbers.n), "e": b64url_uint(rsa_numbers.e)}
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            nums = pub.public_numbers()
            size = ALGORITHMS[self.alg].coordinate_bytes
            jwk = {
                "kty": "EC",
                "crv": ALGORITHMS[self.alg].crv,
                "x": b64url_uint(nums.x, size),
                "y": b64url_uint(nums.y, size),
            }
        else:
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        if include_meta:
            jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk

    def sign(self, data: bytes) -> bytes:
        """The raw JWS signature of ``data`` (r || s for ECDSA)."""
        spec = ALGORITHMS[self.alg]
        if spec.kty == "RSA":
            digest = hash_algorithm(spec.hash_name)
            pad: Any = (
                padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
                if spec.pss
                else padding.PKCS1v15()
            )
            return self._private.sign(data, pad, digest)  # type: ignore[no-any-return]
        if spec.kty == "EC":
            der = self._private.sign(data, ec.ECDSA(hash_algorithm(spec.hash_name)))
            r, s = decode_dss_signature(der)
            return r.to_bytes(spec.coordinate_bytes, "big") + s.to_bytes(spec.coordinate_bytes, "big")
        return self._private.sign(data)  # type: ignore[no-any-return]

    def sign_jwt(self, claims: Mapping[str, Any], typ: str | None = "JWT", **header: Any) -> str:
        """A compact JWS of ``claims`` with this key's ``alg`` and ``kid`` in the header."""
        encoded = None if header else self._headers.get(typ)
        if encoded is None:
            protected: dict[str, Any] = {"alg": self.alg, "kid": self.kid}
            if typ is not None:
                protected["typ"] = typ
            protected.update(header)
            encoded = b64url_encode(json_dumps(protected))
            if not header:
                self._headers[typ] = encoded
        signing_input = f"{encoded}.{b64url_encode(json_dumps(claims))}"
        return f"{signing_input}.{b64url_encode(self.sign(signing_input.encode('ascii')))}"

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r})"


def sign_compact(header: Mapping[str, Any], payload: bytes, signer: Any) -> str:
    """Assemble ``header.payload.signature`` with ``signer(signing_input) -> bytes``."""
    signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(signer(signing_input.encode('ascii')))}"


def hmac_signer(secret: bytes, alg: str = "HS256") -> Any:
    """A signer for HS256/384/512 with ``secret``, for :func:`sign_compact`."""
    name = ALGORITHMS[alg].hash_name
    return lambda data: hmac.digest(secret, data, name)


def secret_from_jwk(jwk: Mapping[str, Any]) -> bytes:
    """The raw secret of an ``oct`` JWK."""
    return b64url_decode(jwk["k"])
