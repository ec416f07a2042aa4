"""A ``tessera.toml``'s APIs, clients and users, as the provider's settings and store records."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tessera.config import ClientConfig, ConfigFileError, TesseraConfig
from tessera.config.check import secret_problems
from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.resources import ApiResource
from tessera.issue.subjects import new_user_id
from tessera.passwordless.sms import SmsSender
from tessera.store import ClientRecord, Store, User

__all__ = ["api_resources", "client_record", "register_configured", "sms_limits", "sms_sender"]


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
    gets the file's roles, and its ``phone`` when the file gives one.
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
                phone=seed.phone if seed.phone is not None else (known.phone if known else None),
            )
        )


def sms_limits(config: TesseraConfig) -> dict[str, Any]:
    """The ``[sms]`` values that are provider settings (``sms_*`` of ``ProviderSettings``)."""
    sms = config.sms
    if sms is None:
        return {}
    values = {
        "sms_default_region": sms.default_region,
        "sms_sends_per_hour_per_number": sms.sends_per_hour_per_number,
        "sms_sends_per_hour_per_country": sms.sends_per_hour_per_country,
    }
    return {name: value for name, value in values.items() if value is not None}


def sms_sender(config: TesseraConfig) -> SmsSender | None:
    """The sender ``[sms]`` chooses: Amazon SNS for ``sender = "sns"``; None for ``dev`` (the
    provider's dev outbox) or no ``[sms]``."""
    if config.sms is None or config.sms.sender != "sns":
        return None
    from tessera.passwordless.sms import SnsSmsSender

    return SnsSmsSender(region_name=config.sms.sns_region)
