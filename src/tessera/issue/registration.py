"""A ``tessera.toml``'s APIs, clients and users, as the provider's settings and store records."""

from __future__ import annotations

import os
from collections.abc import Mapping

from tessera.config import ClientConfig, ConfigFileError, TesseraConfig
from tessera.config.check import secret_problems
from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.resources import ApiResource
from tessera.issue.subjects import new_user_id
from tessera.store import ClientRecord, Store, User

__all__ = ["api_resources", "client_record", "register_configured"]


def api_resources(config: TesseraConfig) -> tuple[ApiResource, ...]:
    """The ``[[apis]]`` as the provider's resource servers."""
    return tuple(ApiResource(api.audience, frozenset(api.scopes)) for api in config.apis)


def client_record(client: ClientConfig, secret: str | None) -> ClientRecord:
    """The store record of a ``[[clients]]`` entry; ``secret`` is its ``secret_env`` value."""
    return ClientRecord(
        client_id=client.id,
        name=client.name or client.id,
        redirect_uris=client.redirect_uris,
        auth_methods=("none",) if client.public else ("client_secret_basic", "client_secret_post"),
        secret_hash=hash_client_secret(secret) if secret else None,
        grant_types=client.grants,
        scopes=client.scopes,
    )


def register_configured(
    store: Store, config: TesseraConfig, environ: Mapping[str, str] | None = None
) -> None:
    """Register the file's clients (secrets from their ``secret_env``) and seed its users.

    A missing or short secret is a :class:`~tessera.config.ConfigFileError` naming the line
    of its ``secret_env``. A seed user already in the store keeps its id (its ``sub``) and
    gets the file's roles.
    """
    env = os.environ if environ is None else environ
    problems = secret_problems(config, env)
    if problems:
        raise ConfigFileError(problems)
    for client in config.clients:
        register_client(store, client_record(client, env.get(client.secret_env or "")))
    for seed in config.users:
        known = store.find_user_by_email(seed.email)
        store.put_user(
            User(
                user_id=known.user_id if known is not None else new_user_id(),
                email=seed.email,
                email_verified=True,
                name=seed.name or (known.name if known else seed.email.partition("@")[0]),
                roles=seed.roles,
            )
        )
