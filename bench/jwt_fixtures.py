"""The tokens every verifier is measured on: one key pair (or secret) per algorithm, a rotation-style
JWKS, one valid access token with realistic claims, and the bad tokens every verifier must reject.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ALGS = ("RS256", "ES256", "EdDSA", "HS256")
DESCRIPTIONS = {"RS256": "RSA-2048", "ES256": "P-256", "EdDSA": "Ed25519", "HS256": "256-bit secret"}
ISS = "https://auth.example.com/"
AUD = "api://orders-service"
SUB = "248289761001"
TYP = "at+jwt"
TOKEN_LIFETIME_S = 900
ROLES = ["orders.reader", "orders.writer", "support.agent"]


def b64url(data: bytes) -> str:
    """Unpadded base64url, written independently of Tessera's encoder."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_int(value: int, length: int | None = None) -> str:
    return b64url(value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big"))


def _b64url_json(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def make_claims(now: int, **overrides: Any) -> dict[str, Any]:
    """RFC 9068-shaped access-token claims (411-byte payload), ``overrides`` applied."""
    claims = {
        "iss": ISS,
        "sub": SUB,
        "aud": AUD,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_S,
        "auth_time": now - 42,
        "jti": "8f4c1d2e-6b7a-4c39-9e51-2d0a7f3b6c18",
        "client_id": "orders-web-frontend-7f3b",
        "scope": "openid profile email orders:read orders:write",
        "roles": ROLES,
        "email": "jane.doe@example.com",
        "email_verified": True,
        "name": "Jane Doe",
    }
    claims.update(overrides)
    return claims


@dataclass
class Fixture:
    """One algorithm's keys and tokens."""

    alg: str
    kid: str
    jwks: dict[str, Any]  # public JWKS; asymmetric: the current key and the next one
    jwk: dict[str, Any]  # the verifying key (for HS256, the secret as an oct JWK)
    token: str
    payload_bytes: int
    bad_tokens: dict[str, str] = field(default_factory=dict)
    expires_at: int = 0


Signer = Callable[[bytes], bytes]


def _signer(alg: str) -> tuple[Signer, dict[str, Any]]:
    """A fresh key: (sign(data) -> JWS signature, its public JWK without kid)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    if alg == "RS256":
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rsa_numbers = rsa_key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _b64url_int(rsa_numbers.n), "e": _b64url_int(rsa_numbers.e)}
        return (lambda data: rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())), jwk
    if alg == "ES256":
        ec_key = ec.generate_private_key(ec.SECP256R1())
        ec_numbers = ec_key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url_int(ec_numbers.x, 32),
            "y": _b64url_int(ec_numbers.y, 32),
        }

        def sign_es256(data: bytes) -> bytes:
            r, s = decode_dss_signature(ec_key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        return sign_es256, jwk
    if alg == "EdDSA":
        ed_key = ed25519.Ed25519PrivateKey.generate()
        raw = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return ed_key.sign, {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    if alg == "HS256":
        secret = os.urandom(32)
        return (lambda data: hmac.digest(secret, data, "sha256")), {"kty": "oct", "k": b64url(secret)}
    raise ValueError(alg)


def make_fixture(alg: str, now: int | None = None) -> Fixture:
    """Keys, the valid token and the bad tokens for ``alg``; tokens expire 15 minutes after ``now``."""
    now = int(time.time()) if now is None else now
    sign, jwk = _signer(alg)
    kid = f"bench-{alg.lower()}-1"
    jwk = {**jwk, "kid": kid, "use": "sig", "alg": alg}
    keys = [jwk]
    if alg != "HS256":
        _, next_jwk = _signer(alg)
        keys.append({**next_jwk, "kid": f"bench-{alg.lower()}-2", "use": "sig", "alg": alg})
    # A shared secret is configured, not looked up: HS256 tokens carry no kid.
    header = _b64url_json(
        {"alg": alg, "typ": TYP} if alg == "HS256" else {"alg": alg, "typ": TYP, "kid": kid}
    )

    def token_for(claims: dict[str, Any], encoded_header: str = header) -> str:
        signing_input = f"{encoded_header}.{_b64url_json(claims)}"
        return f"{signing_input}.{b64url(sign(signing_input.encode()))}"

    claims = make_claims(now)
    token = token_for(claims)
    h, p, s = token.split(".")
    flipped = ("B" if s[0] == "A" else "A") + s[1:]
    bad = {
        "tampered-payload": f"{h}.{_b64url_json(make_claims(now, sub='1'))}.{s}",
        "tampered-signature": f"{h}.{p}.{flipped}",
        "alg-none": f"{_b64url_json({'alg': 'none', 'typ': TYP, 'kid': kid})}.{p}.",
        "expired": token_for(make_claims(now - 7200, exp=now - 3600)),
        "wrong-aud": token_for(make_claims(now, aud="api://another-service")),
        "wrong-iss": token_for(make_claims(now, iss="https://evil.example.net/")),
    }
    payload_bytes = len(json.dumps(claims, separators=(",", ":")).encode())
    return Fixture(alg, kid, {"keys": keys}, jwk, token, payload_bytes, bad, now + TOKEN_LIFETIME_S)
