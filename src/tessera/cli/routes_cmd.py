"""``tessera routes export``: the route rules as API Gateway or API Management configuration."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import TesseraError
from .config_cmd import add_config_option


def register(commands: Any) -> None:
    """Add the ``routes`` command group."""
    routes = commands.add_parser("routes", help="work with a ROUTES_FILE (route rules)")
    actions = routes.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="print the rules as gateway configuration")
    export.add_argument("--format", required=True, choices=["apigw-jwt", "apim"], help="what to produce")
    export.add_argument("--api-ref", default="HttpApi", help="CloudFormation logical id of the HTTP API")
    export.add_argument(
        "routes_file",
        nargs="?",
        metavar="ROUTES_FILE",
        help="the routes file (.toml or .json) or a tessera.toml (default: the tessera.toml of --config)",
    )
    add_config_option(export)
    export.set_defaults(handler=export_routes)


def export_routes(args: argparse.Namespace) -> int:
    """Print the exported configuration; exit 2 when the rules cannot be exported faithfully."""
    from ..config.locations import CONFIG_NAME, config_path
    from ..protect.exports import apigw_jwt_template, apim_policy
    from ..protect.routes import load_routes

    try:
        rules = load_routes(args.routes_file or config_path(args.config, required=True) or CONFIG_NAME)
        if args.format == "apigw-jwt":
            print(json.dumps(apigw_jwt_template(rules, api_ref=args.api_ref), indent=2))
        else:
            print(apim_policy(rules), end="")
    except TesseraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
