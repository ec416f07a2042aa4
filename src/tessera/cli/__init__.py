"""The ``tessera`` command line: one entry point, one sub-command module per concept."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import (
    clients_cmd,
    config_cmd,
    dev_cmd,
    gateway_cmd,
    jwks_cmd,
    keys_cmd,
    login_cmd,
    routes_cmd,
    store_cmd,
    token_cmd,
    users_cmd,
)

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="tessera", description="Authentication for serverless functions.")
    parser.add_argument("--version", action="version", version=f"tessera {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    token_cmd.register(commands)
    jwks_cmd.register(commands)
    routes_cmd.register(commands)
    dev_cmd.register(commands)
    keys_cmd.register(commands)
    gateway_cmd.register(commands)
    store_cmd.register(commands)
    clients_cmd.register(commands)
    users_cmd.register(commands)
    login_cmd.register(commands)
    config_cmd.register(commands)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tessera-auth")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`tessera token verify ... | head`): not an error of ours. Point
        # stdout at /dev/null so the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
