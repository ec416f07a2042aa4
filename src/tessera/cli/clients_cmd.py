"""``tessera clients list|add|remove|reset-secret``: the registered OAuth clients of a data directory.

Changes go straight to the store, where a running ``tessera dev`` reads them on its next request
(the SQLite store's client cache follows ``PRAGMA data_version``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from typing import Any

from ..errors import ConfigurationError

__all__ = ["client_summary", "register"]

_DATA_HELP = "data directory (default .tessera)"


def register(commands: Any) -> None:
    """Add the ``clients`` command group."""
    clients = commands.add_parser("clients", help="list, add or remove the provider's OAuth clients")
    actions = clients.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="list the registered clients")
    listing.set_defaults(handler=list_clients)

    add = actions.add_parser("add", help="register a client (a confidential one's secret is printed once)")
    add.add_argument("client_id", metavar="ID")
    add.add_argument("--type", choices=("public", "confidential"), default="confidential")
    add.add_argument("--name", default="", help="shown on the consent page")
    add.add_argument("--redirect-uri", action="append", default=[], help="a redirect URI (repeatable)")
    add.add_argument("--scope", action="append", default=[], help="an allowed scope (repeatable)")
    add.add_argument(
        "--grant",
        action="append",
        default=[],
        choices=("authorization_code", "refresh_token", "client_credentials"),
        help="an allowed grant type (repeatable; default: the code flow with refresh tokens)",
    )
    add.add_argument("--third-party", action="store_true", help="ask the user for consent")
    add.set_defaults(handler=add_client)

    remove = actions.add_parser("remove", help="remove a client")
    remove.add_argument("client_id", metavar="ID")
    remove.set_defaults(handler=remove_client)

    reset = actions.add_parser("reset-secret", help="give a confidential client a new secret, printed once")
    reset.add_argument("client_id", metavar="ID")
    reset.set_defaults(handler=reset_secret)

    for parser in (listing, add, remove, reset):
        parser.add_argument("--data", default=".tessera", help=_DATA_HELP)
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def client_summary(client: Any) -> dict[str, Any]:
    """What ``list`` shows of a client: everything but its secret's hash and keys."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "type": "public" if client.public else "confidential",
        "auth_methods": list(client.auth_methods),
        "grant_types": list(client.grant_types),
        "scopes": list(client.scopes),
        "redirect_uris": list(client.redirect_uris),
        "first_party": client.first_party,
    }


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def list_clients(args: argparse.Namespace) -> int:
    """Print every client."""
    from .data_dir import open_store

    try:
        clients = [client_summary(c) for c in open_store(args.data).list_clients()]
    except ConfigurationError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(clients, indent=2))
        return 0
    for client in clients:
        scopes = " ".join(client["scopes"])
        print(f"{client['client_id']:<20} {client['type']:<12} {','.join(client['grant_types'])}  {scopes}")
    return 0


def add_client(args: argparse.Namespace) -> int:
    """Register a new client through :func:`~tessera.issue.clients.register_client`."""
    from ..issue.clients import register_client
    from ..issue.endpoints.client_auth import hash_client_secret
    from ..store import ClientRecord
    from .data_dir import open_store

    confidential = args.type == "confidential"
    secret = secrets.token_urlsafe(32) if confidential else None
    grants = tuple(dict.fromkeys(args.grant)) or ("authorization_code", "refresh_token")
    record = ClientRecord(
        client_id=args.client_id,
        name=args.name,
        redirect_uris=tuple(args.redirect_uri),
        auth_methods=("client_secret_basic", "client_secret_post") if confidential else ("none",),
        secret_hash=hash_client_secret(secret) if secret else None,
        grant_types=grants,
        scopes=tuple(dict.fromkeys(args.scope)) or ClientRecord.scopes,
        first_party=not args.third_party,
    )
    try:
        if "authorization_code" in grants and not record.redirect_uris:
            raise ConfigurationError("an authorization_code client needs at least one --redirect-uri")
        store = open_store(args.data)
        if store.get_client(args.client_id) is not None:
            raise ConfigurationError(f"client {args.client_id!r} exists; remove it first")
        register_client(store, record)
    except ConfigurationError as exc:
        return _fail(str(exc))
    return _print_created(record, secret, args.json)


def _print_created(record: Any, secret: str | None, as_json: bool) -> int:
    if as_json:
        shown = client_summary(record) | ({"client_secret": secret} if secret else {})
        print(json.dumps(shown, indent=2))
        return 0
    print(f"client {record.client_id} ({'confidential' if secret else 'public'})")
    if secret:
        print(f"client secret (shown once): {secret}")
    return 0


def remove_client(args: argparse.Namespace) -> int:
    """Remove a client."""
    from .data_dir import open_store

    try:
        removed = open_store(args.data).delete_client(args.client_id)
    except ConfigurationError as exc:
        return _fail(str(exc))
    if not removed:
        return _fail(f"no client {args.client_id!r}")
    print(json.dumps({"removed": args.client_id}) if args.json else f"removed client {args.client_id}")
    return 0


def reset_secret(args: argparse.Namespace) -> int:
    """Replace a confidential client's secret with a new one, printed once."""
    from dataclasses import replace

    from ..issue.clients import register_client
    from ..issue.endpoints.client_auth import hash_client_secret
    from .data_dir import open_store

    secret = secrets.token_urlsafe(32)
    try:
        store = open_store(args.data)
        client = store.get_client(args.client_id)
        if client is None:
            raise ConfigurationError(f"no client {args.client_id!r}")
        if client.secret_hash is None:
            raise ConfigurationError(f"client {args.client_id!r} has no secret (it is public or uses keys)")
        record = register_client(store, replace(client, secret_hash=hash_client_secret(secret)))
    except ConfigurationError as exc:
        return _fail(str(exc))
    return _print_created(record, secret, args.json)
