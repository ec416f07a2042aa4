"""``tessera token inspect`` and ``tessera token verify``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..encoding import EncodingError, b64url_decode, json_object
from ..errors import TesseraError, TokenError

UNVERIFIED_BANNER = (
    "!! NOT VERIFIED: decoded without checking the signature or any claim. Do not trust it. !!"
)


def register(commands: Any) -> None:
    """Add the ``token`` command group."""
    token = commands.add_parser("token", help="inspect or verify a JWT")
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")

    inspect = actions.add_parser("inspect", help="decode a token WITHOUT verifying it")
    inspect.add_argument("token", help="the compact JWT, or - to read it from standard input")
    inspect.set_defaults(handler=inspect_token)

    verify = actions.add_parser("verify", help="verify a token; print its claims as JSON")
    verify.add_argument("token", help="the compact JWT, or - to read it from standard input")
    verify.add_argument("--issuer", required=True, help="the exact expected issuer (iss)")
    verify.add_argument("--audience", action="append", help="an accepted audience (repeatable); omitted: any")
    verify.add_argument("--jwks", metavar="FILE", help="a bundled JWKS file (no network); default: discovery")
    verify.add_argument("--jwks-uri", help="the JWKS URL, instead of discovery")
    verify.add_argument("--token-type", default=None, help="required header typ, e.g. at+jwt; omitted: any")
    verify.add_argument("--leeway", type=int, default=60, help="clock-skew leeway in seconds (default 60)")
    verify.set_defaults(handler=verify_token)


def _read_token(value: str) -> str:
    return sys.stdin.read().strip() if value == "-" else value.strip()


def inspect_token(args: argparse.Namespace) -> int:
    """Print the header and payload of a token without verifying anything."""
    parts = _read_token(args.token).split(".")
    try:
        if len(parts) != 3:
            raise EncodingError("not three segments")
        header, payload = (json_object(b64url_decode(p)) for p in parts[:2])
    except EncodingError:
        print("error: not a well-formed compact JWT", file=sys.stderr)
        return 2
    print(UNVERIFIED_BANNER, file=sys.stderr)
    print(json.dumps({"header": header, "payload": payload, "verified": False}, indent=2, ensure_ascii=False))
    return 0


def verify_token(args: argparse.Namespace) -> int:
    """Verify a token and print its claims; exit 1 with the reason when it is rejected."""
    from ..verify import ANY, Verifier
    from .token_hints import bare_issuer_error, issuer_hint

    bare = bare_issuer_error(args.issuer, discovery=args.jwks is None and args.jwks_uri is None)
    if bare is not None:
        print(f"error: {bare}", file=sys.stderr)
        return 2
    token = _read_token(args.token)
    try:
        verifier = Verifier(
            issuer=args.issuer,
            audience=args.audience if args.audience else ANY,
            token_type=args.token_type or ANY,
            jwks=args.jwks,
            jwks_uri=args.jwks_uri,
            leeway_seconds=args.leeway,
            cache_size=0,
        )
        claims = verifier.verify(token)
    except TokenError as exc:
        print(
            json.dumps({"valid": False, "error": exc.error, "reason": exc.reason.value, "claim": exc.claim})
        )
        hint = issuer_hint(token, args.issuer) if exc.reason == "wrong_issuer" else None
        if hint is not None:
            print(f"hint: {hint}", file=sys.stderr)
        return 1
    except TesseraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(dict(claims.raw), indent=2, ensure_ascii=False))
    return 0
