"""Compact JWS parsing: size, shape, canonical base64url, a strict header, nothing more.

:func:`parse` turns a token into a :class:`Parsed` value without looking at the payload; the
payload is decoded only after the signature verifies (RFC 8725 §3.10). Parsed headers are
memoised by their encoded form, since one issuer's tokens share a handful of headers.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..encoding import EncodingError, decode_checked_alphabet, json_object
from ..errors import Reason, TokenError
from .algorithms import ALGORITHMS

__all__ = ["DEFAULT_MAX_TOKEN_BYTES", "Header", "Parsed", "parse"]

DEFAULT_MAX_TOKEN_BYTES = 8192
MAX_KID_LENGTH = 256
_COMPACT = re.compile(rb"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
# Header members that are understood, or harmless to ignore. Key-selecting members (jwk, jku,
# x5u, x5c, x5t) are ignored: keys come from configuration only (RFC 8725 §3.10).
_FORBIDDEN = frozenset({"crit", "b64", "zip", "enc", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"})
_HEADER_CACHE_SIZE = 128


class Header(NamedTuple):
    """The protected header members verification relies on."""

    alg: str
    kid: str | None
    typ: str | None


class Parsed(NamedTuple):
    """A compact JWS split and decoded, its payload still encoded."""

    header: Header
    signing_input: bytes
    payload_segment: bytes
    signature: bytes


_headers: dict[bytes, Header] = {}


def _header_from(segment: bytes) -> Header:
    try:
        members: dict[str, Any] = json_object(decode_checked_alphabet(segment))
    except EncodingError as exc:
        raise TokenError(Reason.MALFORMED) from exc
    alg = members.get("alg")
    if type(alg) is not str or alg not in ALGORITHMS:
        raise TokenError(Reason.ALGORITHM_NOT_ALLOWED)
    if not _FORBIDDEN.isdisjoint(members):
        raise TokenError(Reason.UNSUPPORTED_HEADER)
    kid = members.get("kid")
    if (kid is not None or "kid" in members) and (
        type(kid) is not str or not kid or len(kid) > MAX_KID_LENGTH
    ):
        raise TokenError(Reason.MALFORMED)
    typ = members.get("typ")
    if (typ is not None or "typ" in members) and type(typ) is not str:
        raise TokenError(Reason.MALFORMED)
    return Header(alg, kid, typ)


def parse(token: str | bytes, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> Parsed:
    """Split and check a compact JWS; raise :class:`TokenError` for anything not strictly valid."""
    if len(token) > max_bytes:
        raise TokenError(Reason.TOO_LARGE)
    if isinstance(token, str):
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise TokenError(Reason.MALFORMED) from None
    elif isinstance(token, bytes):
        raw = token
    else:
        raise TokenError(Reason.MALFORMED)
    match = _COMPACT.fullmatch(raw)
    if match is None:
        raise TokenError(Reason.MALFORMED)
    header_segment, payload_segment, signature_segment = match.groups()
    header = _headers.get(header_segment)
    if header is None:
        header = _header_from(header_segment)
        if len(_headers) >= _HEADER_CACHE_SIZE:
            _headers.clear()
        _headers[header_segment] = header
    try:
        signature = decode_checked_alphabet(signature_segment)
    except EncodingError:
        raise TokenError(Reason.MALFORMED) from None
    return Parsed(header, raw[: match.end(2)], payload_segment, signature)


def decode_payload(parsed: Parsed) -> dict[str, Any]:
    """Decode the payload of a token whose signature has been verified."""
    try:
        return json_object(decode_checked_alphabet(parsed.payload_segment))
    except EncodingError:
        raise TokenError(Reason.MALFORMED) from None
