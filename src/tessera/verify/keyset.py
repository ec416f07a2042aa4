"""Key sets: where a verifier finds the key a token names.

:class:`KeySource` is the small interface every source implements; :class:`KeySet` is the
static one, built from a bundled JWKS (zero network calls), a single public key or a shared
secret. The remote, cached source lives in :mod:`tessera.verify.jwks`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigurationError, KeyRejected, Reason, TesseraError, TokenError
from .algorithms import ASYMMETRIC, SYMMETRIC
from .keys import VerificationKey, key_from_jwk, key_from_public_key, key_from_secret

__all__ = ["MAX_JWKS_KEYS", "JWKSError", "KeySet", "KeySource", "parse_jwks"]


def _warn(message: str, *args: object) -> None:
    import logging  # imported on first use: logging costs a cold start several milliseconds

    logging.getLogger("tessera.verify").warning(message, *args)


MAX_JWKS_KEYS = 32


class JWKSError(TesseraError):
    """A key set document is structurally unusable (not an object, ``keys`` not a list, too many)."""

    code = "invalid_jwks"


@runtime_checkable
class KeySource(Protocol):
    """Finds the verification key for a token's ``kid``."""

    def get_key(self, kid: str | None) -> VerificationKey:
        """The key for ``kid``, fetching if the source may; raise TokenError(UNKNOWN_KEY) if none."""
        ...

    async def aget_key(self, kid: str | None) -> VerificationKey:
        """The async twin of :meth:`get_key`."""
        ...


def parse_jwks(document: Any, max_keys: int = MAX_JWKS_KEYS) -> dict[str | None, VerificationKey]:
    """Load every usable key of a JWKS document, indexed by ``kid``.

    Unusable keys (weak, private, symmetric, encryption keys) are skipped with a warning;
    keys whose ``kid`` appears more than once are all dropped, since which one is meant is
    unknowable. A key without ``kid`` is kept only when it is the set's single key, indexed
    under ``None``.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JWKSError("a JWKS must be an object whose 'keys' member is an array")
    entries = document["keys"]
    if len(entries) > max_keys:
        raise JWKSError(f"the JWKS holds more than {max_keys} keys")
    counts = Counter(e.get("kid") for e in entries if isinstance(e, Mapping))
    keys: dict[str | None, VerificationKey] = {}
    unnamed: list[VerificationKey] = []
    for entry in entries:
        try:
            key = key_from_jwk(entry, ASYMMETRIC)
        except KeyRejected as exc:
            kid = entry.get("kid") if isinstance(entry, Mapping) else None
            _warn("ignoring JWK %r: %s", kid if isinstance(kid, str) else None, exc.why)
            continue
        if key.kid is None:
            unnamed.append(key)
        elif counts[key.kid] > 1:
            _warn("ignoring JWK %r: its kid appears more than once", key.kid)
        else:
            keys[key.kid] = key
    if len(unnamed) == 1 and not keys and len(entries) == 1:
        keys[None] = unnamed[0]
    elif unnamed:
        _warn("ignoring %d JWK(s) without kid in a set of several keys", len(unnamed))
    return keys


class KeySet:
    """A fixed set of verification keys; lookups never touch the network."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Mapping[str | None, VerificationKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, document: Mapping[str, Any] | str | os.PathLike[str]) -> KeySet:
        """Keys from a JWKS mapping, or from a JSON file bundled with the function."""
        if isinstance(document, (str, os.PathLike)):
            name = str(document)
            try:
                with open(document, encoding="utf-8") as file:
                    document = json.load(file)
            except FileNotFoundError:
                raise ConfigurationError(f"there is no JWKS file {name!r}") from None
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise ConfigurationError(f"cannot read the JWKS file {name!r}: {reason}") from None
            except ValueError:
                raise ConfigurationError(f"the JWKS file {name!r} is not JSON") from None
        keys = parse_jwks(document)
        if not keys:
            raise ConfigurationError("the JWKS holds no usable signing key")
        return cls(keys)

    @classmethod
    def from_secret(
        cls, secret: bytes, algorithms: Iterable[str] = SYMMETRIC, kid: str | None = None
    ) -> KeySet:
        """A single shared secret for HS256/384/512; tokens may then omit ``kid``."""
        key = key_from_secret(secret, algorithms, kid)
        return cls({None: key} if kid is None else {kid: key, None: key})

    @classmethod
    def from_public_key(cls, public_key: Any, kid: str | None = None) -> KeySet:
        """A single ``cryptography`` public key; tokens may then omit ``kid``."""
        key = key_from_public_key(public_key, ASYMMETRIC, kid)
        return cls({None: key} if kid is None else {kid: key, None: key})

    @property
    def kids(self) -> frozenset[str]:
        """The key ids in this set."""
        return frozenset(k for k in self._keys if k is not None)

    def get_key(self, kid: str | None) -> VerificationKey:
        """The key for ``kid``; raise TokenError(UNKNOWN_KEY) when there is none."""
        key = self._keys.get(kid)
        if key is None:
            raise TokenError(Reason.UNKNOWN_KEY)
        return key

    async def aget_key(self, kid: str | None) -> VerificationKey:
        """Same as :meth:`get_key`; a static set never waits."""
        return self.get_key(kid)
