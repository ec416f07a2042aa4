"""What every preset shares: input validation, allow-lists, key sources and small claim checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import ConfigurationError, Reason, TokenError
from ..claims import ANY, AnyValue, ClaimCheck
from ..keys import VerificationKey
from ..keyset import KeySource

__all__ = [
    "KeyDocumentParser",
    "allow_list",
    "claim_in",
    "matching",
    "key_location",
    "remote_key_set",
]

KeyDocumentParser = Callable[[Any], Mapping[str | None, VerificationKey]]
"""Turns a fetched key document into verification keys indexed by ``kid``."""


def matching(pattern: re.Pattern[str], value: object, name: str, what: str) -> str:
    """``value`` when it is a string that fully matches ``pattern``; else ConfigurationError."""
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ConfigurationError(f"{name} must be {what}")
    return value


def allow_list(value: str | Iterable[str] | AnyValue, name: str) -> frozenset[str] | AnyValue:
    """A non-empty set of non-empty strings from a string or a list of them, or :data:`ANY`."""
    if isinstance(value, AnyValue):
        return ANY
    try:
        items = (value,) if isinstance(value, str) else tuple(value)
    except TypeError:
        items = ()
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ConfigurationError(f"{name} must be a non-empty string, a non-empty list of them, or ANY")
    return frozenset(items)


def claim_in(name: str, allowed: frozenset[str], reason: Reason) -> ClaimCheck:
    """A check that claim ``name`` is present, a string, and one of ``allowed`` (else ``reason``)."""

    def check(claims: Mapping[str, Any], typ: str | None) -> None:
        value = claims.get(name)
        if value is None:
            raise TokenError(Reason.MISSING_CLAIM, claim=name)
        if type(value) is not str:
            raise TokenError(Reason.INVALID_CLAIM, claim=name)
        if value not in allowed:
            raise TokenError(reason, claim=name)

    return check


def key_location(keys: KeySource | None, jwks_uri: str | None, default_uri: str) -> dict[str, Any]:
    """The ``keys=`` / ``jwks_uri=`` arguments for a provider's Verifier.

    ``keys`` wins (a bundled or test key source); otherwise the caller's ``jwks_uri`` override,
    otherwise the provider's own key location. Giving both ``keys`` and ``jwks_uri`` is an error.
    """
    if keys is not None:
        if jwks_uri is not None:
            raise ConfigurationError("give keys or jwks_uri, not both")
        return {"keys": keys}
    return {"jwks_uri": jwks_uri if jwks_uri is not None else default_uri}


def remote_key_set(*, issuer: str, jwks_uri: str, parse: KeyDocumentParser) -> KeySource:
    """The process-wide cached key source at ``jwks_uri`` for a key document that is not a JWKS."""
    from ..jwks import remote_jwks

    return remote_jwks(issuer=issuer, jwks_uri=jwks_uri, parse=parse)
