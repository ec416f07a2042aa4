"""``tessera users list|add|remove|set-roles``: the end users of a data directory."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from ..errors import ConfigurationError

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``users`` command group."""
    users = commands.add_parser("users", help="list, add or remove the provider's users")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="list the users")
    listing.set_defaults(handler=list_users)

    add = actions.add_parser("add", help="add a user who signs in with emailed codes")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--role", action="append", default=[], help="a role (repeatable)")
    add.add_argument("--name", default=None, help="display name (default: the part before @)")
    add.add_argument("--phone", default=None, help="mobile number with its country code, for sign-in by SMS")
    add.set_defaults(handler=add_user)

    remove = actions.add_parser("remove", help="remove a user and everything of theirs (their sessions end)")
    remove.add_argument("email", metavar="EMAIL")
    remove.set_defaults(handler=remove_user)

    roles = actions.add_parser("set-roles", help="replace a user's roles (none: no roles)")
    roles.add_argument("email", metavar="EMAIL")
    roles.add_argument("roles", nargs="*", metavar="ROLE")
    roles.set_defaults(handler=set_roles)

    for parser in (listing, add, remove, roles):
        parser.add_argument("--data", default=".tessera", help="data directory (default .tessera)")
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _summary(user: Any) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "roles": list(user.roles),
        "disabled": user.disabled,
        "phone": user.phone,
    }


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _show(user: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_summary(user), indent=2))
    else:
        phone = f"  phone: {user.phone}" if user.phone else ""
        print(f"{user.email:<32} {user.user_id}  roles: {','.join(user.roles) or '-'}{phone}")


def _check_email(email: str) -> str:
    email = email.strip()
    if "@" not in email or len(email) > 254 or any(c.isspace() or ord(c) < 32 for c in email):
        raise ConfigurationError(f"{email!r} is not an email address")
    return email


def _check_roles(roles: list[str]) -> tuple[str, ...]:
    for role in roles:
        if not role or any(c.isspace() or c == "," for c in role):
            raise ConfigurationError(f"{role!r} is not a role name")
    return tuple(dict.fromkeys(roles))


def _check_phone(phone: str | None) -> str | None:
    """The number in E.164, or a ConfigurationError saying how to write it."""
    if phone is None:
        return None
    from ..passwordless.sms import PhoneNumberRejected, normalise_phone

    try:
        return normalise_phone(phone)
    except PhoneNumberRejected:
        raise ConfigurationError(
            f"{phone!r} is not a valid phone number in international form (+ and the country code)"
        ) from None


def list_users(args: argparse.Namespace) -> int:
    """Print every user."""
    from .data_dir import open_store

    try:
        users = open_store(args.data).list_users()
    except ConfigurationError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps([_summary(u) for u in users], indent=2))
    else:
        for user in users:
            _show(user, False)
    return 0


def add_user(args: argparse.Namespace) -> int:
    """Add a user; an existing email is an error."""
    from ..issue.subjects import new_user_id
    from ..store import User
    from ..store.errors import PhoneNumberTaken
    from .data_dir import open_store

    try:
        email = _check_email(args.email)
        roles = _check_roles(args.role)
        phone = _check_phone(args.phone)
        store = open_store(args.data)
        if store.find_user_by_email(email) is not None:
            raise ConfigurationError(f"a user with the email {email!r} exists")
        if phone is not None and store.find_user_by_phone(phone) is not None:
            raise ConfigurationError(f"another user has the phone {phone}")
        user = User(
            user_id=new_user_id(),
            email=email,
            email_verified=True,
            name=args.name if args.name is not None else email.split("@")[0],
            roles=roles,
            phone=phone,
        )
        store.put_user(user)
    except PhoneNumberTaken:
        return _fail(f"another user has the phone {phone}")  # taken between the check and the write
    except ConfigurationError as exc:
        return _fail(str(exc))
    _show(user, args.json)
    return 0


def remove_user(args: argparse.Namespace) -> int:
    """Remove the user with this email and everything of theirs (``Store.erase_user``)."""
    import time

    from .data_dir import open_store

    try:
        store = open_store(args.data)
        user = store.find_user_by_email(args.email.strip())
        if user is None or not store.erase_user(user.user_id, time.time()):
            raise ConfigurationError(f"no user with the email {args.email!r}")
    except ConfigurationError as exc:
        return _fail(str(exc))
    print(json.dumps({"removed": user.email}) if args.json else f"removed user {user.email}")
    return 0


def set_roles(args: argparse.Namespace) -> int:
    """Replace the roles of the user with this email."""
    from .data_dir import open_store

    try:
        roles = _check_roles(args.roles)
        store = open_store(args.data)
        user = store.find_user_by_email(args.email.strip())
        if user is None:
            raise ConfigurationError(f"no user with the email {args.email!r}")
        user = replace(user, roles=roles)
        store.put_user(user)
    except ConfigurationError as exc:
        return _fail(str(exc))
    _show(user, args.json)
    return 0
