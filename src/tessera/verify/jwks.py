"""Remote JWKS: discovery, fetching and the process-wide key cache (work in progress)."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from .keyset import KeySource


def remote_jwks(*, issuer: str, jwks_uri: str | None = None) -> KeySource:
    """The shared, cached remote key source for an issuer (not implemented yet)."""
    raise ConfigurationError("remote JWKS is not available yet; pass jwks= or secret=")


def fetch_jwks_document(*, issuer: str, jwks_uri: str | None = None) -> dict[str, Any]:
    """Fetch an issuer's JWKS document (not implemented yet)."""
    raise ConfigurationError("remote JWKS is not available yet")
