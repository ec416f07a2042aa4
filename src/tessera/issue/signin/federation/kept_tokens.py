"""Upstream tokens kept for the server side (``keep_tokens = true``): sealed, bound to their user.

The upstream's access and refresh tokens are sealed with the master key (AES-GCM,
:meth:`~tessera.keys.MasterKey.seal`) with the user id, upstream id and ``sub`` bound in as
associated data, so a sealed value copied onto another user's link does not open. They are
stored on the link (:meth:`~tessera.store.UpstreamLinks.keep_upstream_tokens`), replaced at
each sign-in, deleted with the link, and never put in anything Tessera sends an application.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tessera.keys.sealing import MasterKey
from tessera.store import UpstreamLinks

__all__ = ["KEPT_FIELDS", "kept_from_response", "open_kept_tokens", "seal_kept_tokens"]

KEPT_FIELDS = ("access_token", "refresh_token", "token_type", "scope")


def _context(user_id: str, upstream_id: str, subject: str) -> str:
    return f"upstream-tokens\x00{user_id}\x00{upstream_id}\x00{subject}"


def kept_from_response(tokens: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The parts of an upstream token response worth keeping, with ``expires_at`` made absolute."""
    kept: dict[str, Any] = {name: tokens[name] for name in KEPT_FIELDS if isinstance(tokens.get(name), str)}
    expires_in = tokens.get("expires_in")
    if isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0:
        kept["expires_at"] = int(now) + expires_in
    return kept


def seal_kept_tokens(
    master: MasterKey, user_id: str, upstream_id: str, subject: str, kept: Mapping[str, Any]
) -> bytes:
    """``kept`` as JSON, sealed for this (user, upstream identity)."""
    plain = json.dumps(dict(kept), separators=(",", ":"), sort_keys=True).encode()
    return master.seal(plain, _context(user_id, upstream_id, subject))


def open_kept_tokens(
    store: UpstreamLinks, master: MasterKey, user_id: str, upstream_id: str, subject: str
) -> dict[str, Any] | None:
    """The tokens kept for the user's identity, or None (none kept, or sealed for someone else).

    For server-side code that calls the upstream's API on the user's behalf.
    """
    from tessera.keys.sealing import SealError

    sealed = store.upstream_tokens(upstream_id, subject)
    if sealed is None:
        return None
    try:
        value: dict[str, Any] = json.loads(master.open(sealed, _context(user_id, upstream_id, subject)))
    except SealError:
        return None
    return value
