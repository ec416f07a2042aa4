"""``tessera upstreams list``: the ``[[upstreams]]`` of ``tessera.toml``, checked, nothing fetched."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from typing import Any

from ..errors import ConfigurationError


def register(commands: Any) -> None:
    """Add the ``upstreams`` command."""
    upstreams = commands.add_parser(
        "upstreams", help="the upstream identity providers people may sign in with"
    )
    actions = upstreams.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list the [[upstreams]] of tessera.toml (fetches nothing)")
    listing.add_argument(
        "--config", default="tessera.toml", help="the configuration file (default tessera.toml)"
    )
    listing.add_argument(
        "--issuer",
        default=None,
        help="the issuer of the callback URLs (default: [provider] issuer, else $TESSERA_ISSUER)",
    )
    listing.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Print one line per upstream: id, name, preset, issuer, callback; exit 2 on a bad file."""
    from ..issue.signin.federation.upstreams import upstreams_from_config

    try:
        with open(args.config, "rb") as file:
            document = tomllib.load(file)
        upstreams = upstreams_from_config(document.get("upstreams"))
    except OSError as exc:
        print(f"error: cannot read {args.config}: {exc.strerror}", file=sys.stderr)
        return 2
    except tomllib.TOMLDecodeError as exc:
        print(f"error: {args.config} is not valid TOML: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"error: {args.config}: {exc}", file=sys.stderr)
        return 2
    if not upstreams:
        print("no upstreams configured")
        return 0
    provider = document.get("provider")
    configured = provider.get("issuer") if isinstance(provider, dict) else None
    issuer = str(args.issuer or configured or os.environ.get("TESSERA_ISSUER") or "").rstrip("/")
    for upstream in upstreams:
        callback = upstream.callback_url(issuer) if issuer else f"/upstream/{upstream.id}/callback"
        print(f"{upstream.id}\t{upstream.name}\t{upstream.preset or 'oidc'}\t{upstream.issuer}\t{callback}")
    return 0
