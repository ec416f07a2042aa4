"""``tessera config check [PATH] [--online]``: validate a ``tessera.toml``; exit 2 with one line per problem.

Nothing is fetched unless ``--online`` asks: then each ``[[upstreams]]`` entry's discovery
document and JWKS are fetched and judged, one line per upstream.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import TesseraConfig


def register(commands: Any) -> None:
    """Add the ``config`` command group."""
    config = commands.add_parser("config", help="work with tessera.toml")
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate tessera.toml (keys, types, scopes, URIs, secrets)")
    check.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="the file (default: --config, $TESSERA_CONFIG, else ./tessera.toml)",
    )
    add_config_option(check)
    check.add_argument(
        "--online",
        action="store_true",
        help="also fetch each upstream's discovery document and JWKS (nothing is fetched without it)",
    )
    check.set_defaults(handler=check_command)


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The ``--config PATH`` option every command that reads ``tessera.toml`` takes."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="tessera.toml to read (default: $TESSERA_CONFIG, else ./tessera.toml if present)",
    )


def check_command(args: argparse.Namespace) -> int:
    """Print every problem (``FILE:LINE: KEY: message``) and exit 2, or a summary and exit 0."""
    from ..config.check import check_config
    from ..config.locations import CONFIG_NAME, config_path
    from ..errors import ConfigurationError

    path = config_path(args.path or args.config, required=True) or CONFIG_NAME
    try:
        config, problems = check_config(path)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems or config is None:
        return 2
    if getattr(args, "online", False) and _check_online(config) != 0:
        return 2
    rules = len(config.route_rules.routes) if config.route_rules else 0
    print(
        f"{path}: ok: {len(config.apis)} APIs, {len(config.clients)} clients, "
        f"{len(config.users)} users, {rules} routes"
    )
    return 0


def _check_online(config: TesseraConfig) -> int:
    """Fetch and judge each upstream; one line each (problems on stderr); 2 when any failed."""
    from ..issue.signin.federation.online_check import check_upstreams
    from ..issue.signin.federation.upstreams import upstreams_from_config

    upstreams = upstreams_from_config(config.document.get("upstreams"))
    if not upstreams:
        print("no upstreams to check")
        return 0
    verdicts = check_upstreams(upstreams)
    for verdict in verdicts:
        print(verdict.line(), file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if all(v.ok for v in verdicts) else 2


def read_dev_config(given: str | None) -> TesseraConfig | None:
    """The ``tessera.toml`` of ``--config``, ``$TESSERA_CONFIG`` or the current directory, if any."""
    from ..config import read_config
    from ..config.locations import config_path

    path = config_path(given)
    return read_config(path) if path is not None else None


def config_summary(config: TesseraConfig | None) -> list[str]:
    """The banner lines that say what a ``tessera.toml`` added."""
    if config is None:
        return []
    lines = [f"  config      {config.path}"]
    if config.apis:
        apis = ", ".join(f"{a.audience} ({' '.join(a.scopes)})" for a in config.apis)
        lines.append(f"  APIs        {apis}")
    if config.clients:
        lines.append("  + clients   " + ", ".join(f"{c.id} ({c.type})" for c in config.clients))
    if config.users:
        lines.append("  + users     " + ", ".join(u.email for u in config.users))
    return lines
