"""``tessera gateway --routes ROUTES_FILE``: serve Lambda handlers behind a local API Gateway."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType
from typing import Any

from .config_cmd import add_config_option


def register(commands: Any) -> None:
    """Add the ``gateway`` command."""
    gateway = commands.add_parser("gateway", help="serve Lambda handlers over HTTP like API Gateway")
    gateway.add_argument(
        "--routes",
        metavar="ROUTES_FILE",
        help="the routes file (TOML/JSON) or a tessera.toml (default: the tessera.toml of --config)",
    )
    add_config_option(gateway)
    gateway.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    gateway.add_argument("--port", type=int, default=8080, help="port to bind (default 8080; 0: any free)")
    gateway.add_argument(
        "--runtime",
        choices=("inprocess", "ric"),
        default="inprocess",
        help="run handlers in this process, or in the real awslambdaric runtime client",
    )
    gateway.add_argument("--quiet", action="store_true", help="do not log each request")
    gateway.set_defaults(handler=serve_gateway)


def serve_gateway(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 on a bad routes file or an unusable address."""
    from ..errors import ConfigurationError
    from ..gateway import Gateway, GatewayServer, load_gateway_config
    from ..gateway.invoke import InProcessInvoker, Invoker, preload_handlers

    # Only Tessera's own lines at INFO (one per request): a handler's libraries stay at WARNING,
    # or Mangum's own request line doubles each one.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("tessera").setLevel(logging.WARNING if args.quiet else logging.INFO)
    from ..config.locations import CONFIG_NAME, config_path

    try:
        config = load_gateway_config(args.routes or config_path(args.config, required=True) or CONFIG_NAME)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    invoker: Invoker
    if args.runtime == "ric":
        from ..gateway.runtime_api import RicInvoker

        try:
            invoker = RicInvoker(config.base_dir, output=None)
        except ConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        invoker = InProcessInvoker(config.base_dir)
        try:
            preload_handlers(config, invoker)
        except ConfigurationError as exc:
            invoker.close()
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        server = GatewayServer(Gateway(config, invoker=invoker), args.host, args.port)
    except OSError as exc:
        invoker.close()
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.host}, beyond this machine; this is a development server",
            file=sys.stderr,
        )
    print(f"tessera gateway listening on {server.url} ({len(config.routes)} routes)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
