"""Strict base64url and JSON, the two encodings every JOSE object is made of.

Decoding is canonical-only: no padding, no characters outside the URL-safe alphabet, no
non-zero trailing bits, so every token has exactly one string form (RFC 7515 §2, RFC 4648
§3.5). JSON must be UTF-8, an object at the top, without duplicate member names and without
the non-standard ``NaN``/``Infinity`` constants (RFC 8259).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "ALPHABET",
    "EncodingError",
    "b64url_decode",
    "b64url_encode",
    "b64url_uint",
    "decode_checked_alphabet",
    "json_dumps",
    "json_object",
]

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# URL-safe to standard alphabet in one pass; "+", "/" and "=" become "!", which strict
# a2b_base64 rejects like every other byte outside the alphabet.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_FROM_STANDARD = bytes.maketrans(b"+/", b"-_")
# The last character of a segment whose length is 2 or 3 (mod 4) may only carry zero bits
# beyond the decoded bytes: these are the characters whose unused low bits are zero.
_CANONICAL_LAST = {
    2: frozenset(b"AQgw"),
    3: frozenset(b"AEIMQUYcgkosw048"),
}
_PAD = (b"", b"", b"==", b"=")


class EncodingError(ValueError):
    """The input is not canonical base64url or not a strict JSON object."""


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return binascii.b2a_base64(data, newline=False).translate(_FROM_STANDARD).rstrip(b"=").decode("ascii")


def b64url_decode(segment: bytes | str) -> bytes:
    """Decode canonical, unpadded base64url; raise :class:`EncodingError` on anything else."""
    raw = segment.encode("ascii", "replace") if isinstance(segment, str) else segment
    return decode_checked_alphabet(raw)


def decode_checked_alphabet(raw: bytes) -> bytes:
    """Decode canonical, unpadded base64url bytes; raise :class:`EncodingError` on anything else.

    The alphabet is checked here too (by strict decoding after translation), so this is
    :func:`b64url_decode` for ``bytes`` without the type dispatch.
    """
    rem = len(raw) % 4
    if rem and (rem == 1 or raw[-1] not in _CANONICAL_LAST[rem]):
        raise EncodingError("non-canonical base64url")
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PAD[rem], strict_mode=True)
    except binascii.Error as exc:  # a byte outside the alphabet, or padding
        raise EncodingError("not base64url") from exc


def b64url_uint(value: int, length: int | None = None) -> str:
    """Encode a non-negative integer big-endian, minimal length unless ``length`` is given."""
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise EncodingError("duplicate member name")
    return obj


def _reject_constant(name: str) -> Any:
    raise EncodingError(f"non-standard JSON constant {name}")


_DECODER = json.JSONDecoder(object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant)
_scan_once: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def json_object(data: bytes) -> dict[str, Any]:
    """Parse UTF-8 JSON text that must be an object; raise :class:`EncodingError` otherwise."""
    try:
        text = data.decode("utf-8")
        # The scanner alone parses text without surrounding whitespace, which is every token
        # in practice; anything else takes the full decoder, which skips whitespace or raises.
        try:
            value, end = _scan_once(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            value = _DECODER.decode(text)
    except EncodingError:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int-size limits
        raise EncodingError("not strict JSON") from exc
    if type(value) is not dict:
        raise EncodingError("not a JSON object")
    return value


def json_dumps(value: Mapping[str, Any]) -> bytes:
    """Serialise compactly, as JOSE objects are usually sent."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
