"""Plain-language help for the two ``--issuer`` mistakes people make with ``tessera token verify``."""

from __future__ import annotations

from ..encoding import EncodingError, b64url_decode, json_object

__all__ = ["bare_issuer_error", "issuer_hint"]


def bare_issuer_error(issuer: str, *, discovery: bool) -> str | None:
    """The message for an ``--issuer`` that is not a URL, when the keys must be discovered from it."""
    if not discovery or "://" in issuer:
        return None
    return (
        f"--issuer {issuer!r} is a bare word, not a URL: keys are discovered at the issuer's URL "
        "(give it as in the token's iss, e.g. https://id.example.com), or pass --jwks FILE"
    )


def issuer_hint(token: str, expected: str) -> str | None:
    """A hint when the token's (unverified) ``iss`` differs from ``expected`` by a trailing slash only."""
    try:
        payload = json_object(b64url_decode(token.split(".")[1]))
    except (EncodingError, IndexError):
        return None
    actual = payload.get("iss")
    if not isinstance(actual, str) or actual == expected or actual.rstrip("/") != expected.rstrip("/"):
        return None
    return f"the token's iss is {actual!r}: --issuer must match it exactly, trailing slash included"
