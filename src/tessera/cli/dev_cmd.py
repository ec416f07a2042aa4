"""``tessera dev``: run the identity provider locally on SQLite, with dev clients and a dev outbox."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .config_cmd import add_config_option, config_summary, read_dev_config
from .listen import check_port

if TYPE_CHECKING:
    from ..store.url import StoreChoice


def register(commands: Any) -> None:
    """Add the ``dev`` command."""
    dev = commands.add_parser("dev", help="run the OpenID Connect provider locally (SQLite, dev outbox)")
    dev.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    dev.add_argument("--port", type=check_port, default=8000, help="port to bind, 1-65535 (default 8000)")
    dev.add_argument("--data", default=".tessera", help="data directory (default .tessera)")
    dev.add_argument(
        "--alg",
        choices=("RS256", "ES256", "EdDSA"),
        default=None,
        help="signing algorithm, chosen on first start (default RS256)",
    )
    dev.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the data directory (default 1; one per CPU serves the most)",
    )
    dev.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="the store (default: TESSERA_STORE, [store] url in tessera.toml, else SQLite in --data)",
    )
    dev.add_argument(
        "--user", action="append", default=[], metavar="EMAIL[:role,role]", help="seed a user (repeatable)"
    )
    add_config_option(dev)
    dev.set_defaults(handler=run_dev)


def _chosen_store(cli_url: str | None) -> StoreChoice | None:
    """The store named by ``--store``, ``TESSERA_STORE`` or ``tessera.toml``, migrated; else None."""
    from ..store.url import choose_store, migrate_store

    choice = choose_store(cli_url)
    if choice is not None:
        migrate_store(choice.url)
    return choice


def run_dev(args: argparse.Namespace) -> int:
    """Start the provider under uvicorn until interrupted."""
    from ..config.locations import CONFIG_ENV
    from ..issue.app import create_app
    from ..issue.dev.provider import DEV_DATA_ENV, DEV_ISSUER_ENV, DEV_WORKERS_ENV, dev_provider
    from ..issue.hosting.serving import uvicorn_options
    from ..store.url import CACHE_ENV, STORE_ENV
    from .dev_banner import dev_banner
    from .listen import hold_port, serve

    host = args.host
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("error: tessera dev binds loopback addresses only", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    shown_host = f"[{host}]" if ":" in host else host
    issuer = f"http://{shown_host}:{args.port}"
    try:
        config = read_dev_config(args.config)
        sock = hold_port(host, args.port)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        store = _chosen_store(args.store)
        setup = dev_provider(
            args.data,
            issuer,
            args.user,
            signing_alg=args.alg,
            store_url=store.url if store else None,
            store_cache=store.cache if store else None,
            file_config=config,
        )
    except ConfigurationError as exc:
        sock.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = args.data + (f" (store from {store.source})" if store else "")
    print(dev_banner(issuer, data, setup, args.workers, details=config_summary(config)), flush=True)
    # Bounded request reads; X-Forwarded-For is the provider's to read (trusted_proxies), not uvicorn's.
    options: dict[str, Any] = {"host": host, "port": args.port, "log_level": "warning", **uvicorn_options()}
    if args.workers == 1:
        serve(create_app(setup.provider), sock, **options)
    else:
        os.environ[DEV_DATA_ENV] = str(Path(args.data).resolve())
        os.environ[DEV_ISSUER_ENV] = issuer
        os.environ[DEV_WORKERS_ENV] = str(args.workers)
        if store is not None:
            os.environ[STORE_ENV] = store.url
            if store.cache:
                os.environ[CACHE_ENV] = store.cache
        if config is not None:
            os.environ[CONFIG_ENV] = str(config.path.resolve())
        serve(
            "tessera.issue.dev.provider:app_from_environment",
            sock,
            factory=True,
            workers=args.workers,
            **options,
        )
    return 0
