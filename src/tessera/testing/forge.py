"""Hand-built tokens for attack tests: arbitrary raw header and payload bytes, any signature."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ..encoding import b64url_encode

__all__ = ["altered", "bad_signature", "claims_at", "compact", "raw_json", "sign_raw"]


def raw_json(value: Any) -> bytes:
    """Compact JSON bytes of ``value``."""
    return json.dumps(value, separators=(",", ":")).encode()


def compact(header: bytes, payload: bytes, signature: bytes = b"") -> str:
    """``b64(header).b64(payload).b64(signature)`` from raw bytes, with no checks at all."""
    return ".".join(b64url_encode(part) for part in (header, payload, signature))


def sign_raw(header: bytes, payload: bytes, signer: Callable[[bytes], bytes]) -> str:
    """A token over raw header and payload bytes, signed by ``signer(signing_input)``."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(signer(signing_input.encode()))}"


def claims_at(issuer: str, now: float | None = None, **overrides: Any) -> dict[str, Any]:
    """Access-token claims valid at ``now``; overrides replace or (with None) remove claims."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": "user-123",
        "aud": "api",
        "iat": issued,
        "exp": issued + 900,
        "jti": "jti-1",
        "client_id": "client-1",
        "scope": "read write",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def altered(value: str) -> str:
    """``value`` (base64url text) with its first character changed: always a different decoding.

    Changing the *last* characters is not: they may carry padding bits only, or already be the
    replacement, so such a "forgery" is now and then the genuine value.
    """
    return ("B" if value[0] == "A" else "A") + value[1:]


def bad_signature(token: str) -> str:
    """``token`` with its signature altered (see :func:`altered`)."""
    signing_input, _, signature = token.rpartition(".")
    return f"{signing_input}.{altered(signature)}"
