"""``tessera jwks fetch``: download an issuer's JWKS once, at deploy time, to bundle it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import TesseraError


def register(commands: Any) -> None:
    """Add the ``jwks`` command group."""
    jwks = commands.add_parser("jwks", help="work with JSON Web Key Sets")
    actions = jwks.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="print an issuer's JWKS (via OpenID discovery) for bundling")
    fetch.add_argument("issuer", help="the issuer URL")
    fetch.add_argument("--jwks-uri", help="fetch this URL instead of discovering it")
    fetch.set_defaults(handler=fetch_jwks)


def fetch_jwks(args: argparse.Namespace) -> int:
    """Print the validated JWKS document of an issuer."""
    from ..verify.jwks import fetch_jwks_document

    try:
        document = fetch_jwks_document(issuer=args.issuer, jwks_uri=args.jwks_uri)
    except TesseraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(document, indent=2))
    return 0
