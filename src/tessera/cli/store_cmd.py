"""``tessera store migrate``: create or upgrade the schema of the store named by URL."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ConfigurationError


def register(commands: Any) -> None:
    """Add the ``store`` command and its ``migrate`` sub-command."""
    store = commands.add_parser("store", help="manage the provider's store (SQLite, PostgreSQL, DynamoDB)")
    actions = store.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    migrate = actions.add_parser(
        "migrate", help="create or upgrade the store's schema, and say what was done"
    )
    migrate.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="sqlite:///FILE, postgresql://USER:PASS@HOST:PORT/DB or dynamodb://TABLE?region=REGION "
        "(default: TESSERA_STORE, then [store] url in tessera.toml)",
    )
    migrate.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    """Migrate the chosen store; print one line per step, or one error line and exit 2."""
    from ..store.url import choose_store, migrate_store

    try:
        choice = choose_store(args.store)
        if choice is None:
            raise ConfigurationError("no store given: pass --store URL, set TESSERA_STORE or [store] url")
        steps = migrate_store(choice.url)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for step in steps:
        print(step)
    return 0
