"""The JWS algorithms Tessera verifies, as fixed data: each one names the key it needs.

An algorithm is bound to a key by its key type, curve and minimum size (RFC 7518 §3, RFC 8725
§3.1). Symmetric algorithms exist only for an explicitly configured shared secret; a key from a
JWKS can never verify them.
"""

from __future__ import annotations

__all__ = ["ALGORITHMS", "ASYMMETRIC", "DEFAULT_ALGORITHMS", "SYMMETRIC", "Algorithm"]


class Algorithm:
    """What an ``alg`` value requires of its key."""

    __slots__ = ("coordinate_bytes", "crv", "hash_name", "kty", "name", "pss")

    def __init__(
        self,
        name: str,
        kty: str,
        hash_name: str,
        *,
        crv: str | None = None,
        coordinate_bytes: int = 0,  # EC: size of r and s in the signature
        pss: bool = False,
    ) -> None:
        self.name = name
        self.kty = kty
        self.hash_name = hash_name
        self.crv = crv
        self.coordinate_bytes = coordinate_bytes
        self.pss = pss

    def __repr__(self) -> str:
        return f"Algorithm({self.name!r})"


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("RS256", "RSA", "sha256"),
        Algorithm("RS384", "RSA", "sha384"),
        Algorithm("RS512", "RSA", "sha512"),
        Algorithm("PS256", "RSA", "sha256", pss=True),
        Algorithm("PS384", "RSA", "sha384", pss=True),
        Algorithm("PS512", "RSA", "sha512", pss=True),
        Algorithm("ES256", "EC", "sha256", crv="P-256", coordinate_bytes=32),
        Algorithm("ES384", "EC", "sha384", crv="P-384", coordinate_bytes=48),
        Algorithm("ES512", "EC", "sha512", crv="P-521", coordinate_bytes=66),
        Algorithm("EdDSA", "OKP", "", crv="Ed25519"),
        Algorithm("HS256", "oct", "sha256"),
        Algorithm("HS384", "oct", "sha384"),
        Algorithm("HS512", "oct", "sha512"),
    )
}

SYMMETRIC = frozenset(name for name, a in ALGORITHMS.items() if a.kty == "oct")
ASYMMETRIC = frozenset(ALGORITHMS) - SYMMETRIC
DEFAULT_ALGORITHMS = ASYMMETRIC
"""With no allowlist configured, every asymmetric algorithm is allowed, and nothing else."""
