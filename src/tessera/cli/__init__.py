"""The ``tessera`` command line: one entry point, one sub-command module per concept."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import dev_cmd, gateway_cmd, jwks_cmd, keys_cmd, routes_cmd, store_cmd, token_cmd, upstreams_cmd

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="tessera", description="Authentication for serverless functions.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    token_cmd.register(commands)
    jwks_cmd.register(commands)
    routes_cmd.register(commands)
    dev_cmd.register(commands)
    keys_cmd.register(commands)
    gateway_cmd.register(commands)
    store_cmd.register(commands)
    upstreams_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
