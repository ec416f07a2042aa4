"""Compact JWS parsing: size, shape, canonical base64url, a strict header, nothing more.

:func:`split` turns a token into its header, signing input, encoded payload and signature
without looking at the payload; the payload is decoded only after the signature verifies
(RFC 8725 §3.10). Parsed headers are memoised by their encoded form, since one issuer's
tokens share a handful of headers.
"""

from __future__ import annotations

from typing import Any

from ..encoding import ALPHABET, EncodingError, decode_checked_alphabet, json_object
from ..errors import Reason, TokenError
from .algorithms import ALGORITHMS

__all__ = ["DEFAULT_MAX_TOKEN_BYTES", "Header", "Parsed", "decode_payload", "is_base64url", "parse", "split"]

DEFAULT_MAX_TOKEN_BYTES = 8192
MAX_KID_LENGTH = 256
# Header members that are understood, or harmless to ignore. Key-selecting members (jwk, jku,
# x5u, x5c, x5t) are ignored: keys come from configuration only (RFC 8725 §3.10).
_FORBIDDEN = frozenset({"crit", "b64", "zip", "enc", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"})
_HEADER_CACHE_SIZE = 128


class Header:
    """The protected header members verification relies on."""

    __slots__ = ("alg", "kid", "typ")

    def __init__(self, alg: str, kid: str | None, typ: str | None) -> None:
        self.alg = alg
        self.kid = kid
        self.typ = typ

    def __repr__(self) -> str:
        return f"Header(alg={self.alg!r}, kid={self.kid!r}, typ={self.typ!r})"


class Parsed:
    """A compact JWS split and decoded, its payload still encoded."""

    __slots__ = ("header", "payload_segment", "signature", "signing_input")

    def __init__(
        self, header: Header, signing_input: bytes, payload_segment: bytes, signature: bytes
    ) -> None:
        self.header = header
        self.signing_input = signing_input
        self.payload_segment = payload_segment
        self.signature = signature


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


def split(raw: bytes) -> tuple[Header, bytes, bytes, bytes]:
    """(header, signing input, payload segment, signature) of a compact JWS.

    ``raw`` must already be within the size limit. Raises :class:`TokenError`: MALFORMED for
    anything but three non-empty segments, the header's own reasons, MALFORMED for a
    signature that is not canonical base64url. The payload segment is returned unchecked:
    the caller decodes it strictly after the signature verifies, and calls
    :func:`is_base64url` on it when the signature fails, so that a mangled payload is
    reported as MALFORMED either way.
    """
    parts = raw.split(b".")
    if len(parts) != 3:
        raise TokenError(Reason.MALFORMED)
    header_segment, payload_segment, signature_segment = parts
    if not (payload_segment and signature_segment):
        raise TokenError(Reason.MALFORMED)
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
    return header, raw[: len(header_segment) + 1 + len(payload_segment)], payload_segment, signature


def is_base64url(segment: bytes) -> bool:
    """Whether ``segment`` holds only base64url characters (canonical form is not checked)."""
    return not segment.translate(None, ALPHABET)


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
    parsed = Parsed(*split(raw))
    if not is_base64url(parsed.payload_segment):
        raise TokenError(Reason.MALFORMED)
    return parsed


def decode_payload(payload_segment: bytes | Parsed) -> dict[str, Any]:
    """Decode the payload of a token whose signature has been verified."""
    segment = payload_segment.payload_segment if isinstance(payload_segment, Parsed) else payload_segment
    try:
        return json_object(decode_checked_alphabet(segment))
    except EncodingError:
        raise TokenError(Reason.MALFORMED) from None
