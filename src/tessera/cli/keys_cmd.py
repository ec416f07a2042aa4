"""``tessera keys rotate``: promote next to current, current to previous, and create a new next."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError


def register(commands: Any) -> None:
    """Add the ``keys`` command group."""
    keys = commands.add_parser("keys", help="manage the provider's signing keys")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = actions.add_parser("rotate", help="rotate the signing keys (previous/current/next)")
    rotate.add_argument("--data", default=".tessera", help="data directory (default .tessera)")
    rotate.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="the provider's store, if not SQLite in --data (default: TESSERA_STORE, [store] url)",
    )
    rotate.set_defaults(handler=rotate_keys)


def rotate_keys(args: argparse.Namespace) -> int:
    """Rotate the key set in ``--data`` and print the published key ids."""
    from ..issue.audit import AuditLog
    from ..keys.ring import KeyRing
    from ..keys.sealing import MasterKey
    from ..store import Store
    from ..store.sqlite import SQLiteStore
    from ..store.url import choose_store, open_store

    root = Path(args.data)
    try:
        chosen = choose_store(args.store)
        if chosen is None and not (root / "tessera.db").exists():
            print(f"error: no provider data in {root}; run `tessera dev` first", file=sys.stderr)
            return 2
        store: Store = open_store(chosen.url) if chosen else SQLiteStore(root / "tessera.db")
        try:
            config = json.loads((root / "config.json").read_text()) if (root / "config.json").exists() else {}
            ring = KeyRing(store, MasterKey.load(root), config.get("signing_alg", "RS256"))
            current = ring.rotate()
            records = ring.records()
        finally:
            store.close()  # a network store's pool, else collected later on one of its own threads
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import time

    AuditLog(time.time).event("key_rotated", kid=current.kid)
    print(json.dumps({status: records[status].kid for status in ("previous", "current", "next")}, indent=2))
    return 0
