"""Who a ``sub`` names: users and clients live in namespaces that cannot meet.

A ``client_credentials`` token's ``sub`` is the client's id (RFC 9068 §2.2), a user's token's
``sub`` is the user's id. A resource server that looks only at ``sub`` must never take one for
the other (RFC 9068 §5, RFC 8725 §3.11), so user ids start with ``usr_`` and no client id may
start with it in any letter case, be anything but visible ASCII (no look-alike letters), or
equal the id of a user the store holds.
"""

from __future__ import annotations

import secrets

from tessera.store import Store

__all__ = ["USER_ID_PREFIX", "client_id_problem", "could_be_user_id", "new_user_id"]

USER_ID_PREFIX = "usr_"


def new_user_id() -> str:
    """A fresh user id: ``usr_`` and 16 hex digits."""
    return USER_ID_PREFIX + secrets.token_hex(8)


def could_be_user_id(value: str) -> bool:
    """Whether ``value`` starts with the user prefix in any letter case."""
    return value[: len(USER_ID_PREFIX)].lower() == USER_ID_PREFIX


def client_id_problem(store: Store, client_id: str) -> str | None:
    """Why ``client_id`` could be mistaken for a user's ``sub``; None when it cannot."""
    if not all(" " <= c <= "~" for c in client_id):
        return "client_id must be visible ASCII (RFC 6749 Appendix A.1)"
    if could_be_user_id(client_id):
        return f"client_id must not start with {USER_ID_PREFIX!r} (in any case): user subjects do"
    if store.get_user(client_id) is not None:
        return "client_id is a user's id"
    return None
