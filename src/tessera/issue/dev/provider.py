"""``tessera dev``: a provider on SQLite in a data directory, with dev clients, users and outbox."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tessera.config import ConfigFileError, TesseraConfig
from tessera.config.check import look_problems
from tessera.errors import ConfigurationError
from tessera.issue.clients import register_client
from tessera.issue.dev.data_dir import DEV_USER, open_data_directory, open_dev_store, read_dev_config
from tessera.issue.dev.pages import DEV_CALLBACK_PATH
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.mail.delivery import DevOutbox
from tessera.issue.offload import threads_for_store
from tessera.issue.provider import Provider
from tessera.issue.registration import api_resources, register_configured, sms_limits, sms_sender
from tessera.issue.settings import ProviderSettings
from tessera.issue.signin.federation.upstreams import upstreams_from_config
from tessera.issue.subjects import new_user_id
from tessera.keys.sealing import MasterKey
from tessera.store import ClientRecord, User
from tessera.store.url import CACHE_ENV, STORE_ENV, open_store

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "DEV_DATA_ENV",
    "DEV_ISSUER_ENV",
    "DEV_SERVICE_SECRET_ENV",
    "DEV_WORKERS_ENV",
    "DevSetup",
    "app_from_environment",
    "check_dev_config",
    "dev_provider",
    "parse_user",
]

DEV_SERVICE_SECRET_ENV = "TESSERA_DEV_SERVICE_SECRET"
DEV_DATA_ENV = "TESSERA_DEV_DATA"
DEV_ISSUER_ENV = "TESSERA_DEV_ISSUER"
DEV_WORKERS_ENV = "TESSERA_DEV_WORKERS"
DEV_SCOPES = ("openid", "profile", "email", "offline_access", "demo:read")
_CONFIG = "config.json"
_OUTBOX = "outbox.db"
DEV_RESEND_SECONDS = 5  # scripts sign in often; production keeps the 30 s default


SHOWN_USERS = 3  # users the banner names; one more is read to know whether there are others


@dataclass(frozen=True)
class DevSetup:
    """What ``tessera dev`` built: the provider, the one-time secret to print if new, and a few
    users' emails (up to ``SHOWN_USERS + 1``: the store is not listed whole at start)."""

    provider: Provider
    new_service_secret: str | None
    user_emails: tuple[str, ...] = ()


def parse_user(spec: str) -> tuple[str, tuple[str, ...]]:
    """``EMAIL[:role,role]`` → (email, roles)."""
    email, _, roles = spec.partition(":")
    email = email.strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise ConfigurationError(f"--user needs EMAIL[:role,role], not {spec!r}")
    return email, tuple(r.strip() for r in roles.split(",") if r.strip())


DEV_CLIENTS = ("dev-spa", "dev-partner", "dev-service")


def check_dev_config(config: TesseraConfig, issuer: str) -> None:
    """Refuse a ``tessera.toml`` that ``tessera dev`` at ``issuer`` cannot serve as written.

    Its issuer (optional here) must be the one ``--host``/``--port`` give: the protect side
    reads the same file and would trust another. Its clients may not reuse the dev clients' ids.
    """
    configured = config.provider.issuer
    if configured is not None and configured != issuer:
        raise ConfigurationError(
            f"{config.path}: the issuer is {configured} but tessera dev serves {issuer}; "
            "make --host/--port agree with it, or set TESSERA_ISSUER"
        )
    for client in config.clients:
        if client.id in DEV_CLIENTS:
            raise ConfigurationError(f"{config.path}: client id {client.id!r} is tessera dev's own")
    problems = look_problems(config)
    if problems:
        raise ConfigFileError(problems)


def dev_provider(
    data_dir: str | Path,
    issuer: str,
    users: Sequence[str] = (),
    *,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    outbox: DevOutbox | None = None,
    signing_alg: str | None = None,
    store_url: str | None = None,
    store_cache: str | None = None,
    file_config: TesseraConfig | None = None,
) -> DevSetup:
    """Open (or create on first run) a dev installation in ``data_dir`` and build its provider.

    The store is SQLite in ``data_dir`` unless ``store_url`` names another (:mod:`tessera.store.url`).
    ``file_config`` (a ``tessera.toml``) adds its APIs, clients and seed users to the dev ones, and
    names the provider; self sign-up is on unless it says ``signup = false``.
    """
    env = os.environ if environ is None else environ
    if file_config is not None:
        check_dev_config(file_config, issuer)
    root = Path(data_dir)
    open_data_directory(root)
    master = MasterKey.load(root, env)
    config_path = root / _CONFIG
    config = read_dev_config(config_path, signing_alg)
    if signing_alg is not None and signing_alg != config["signing_alg"]:
        raise ConfigurationError(
            f"{root} signs with {config['signing_alg']}; the algorithm is chosen on first start only"
        )
    store = open_store(store_url, store_cache) if store_url else open_dev_store(root / "tessera.db")
    settings = ProviderSettings(
        issuer=issuer,
        dev_mode=True,
        sign_in_resend_seconds=DEV_RESEND_SECONDS,
        token_requests_per_minute_per_address=None,  # everything is loopback; benchmarks hammer /token
        apis=api_resources(file_config) if file_config is not None else (),
        name=(file_config.provider.name if file_config is not None else None) or "Tessera",
        logo=file_config.logo() if file_config is not None else None,
        templates=file_config.templates() if file_config is not None else None,
        signup=file_config is None or file_config.provider.signup is not False,
        check_host=True,  # DNS rebinding would let any web page read the dev outbox
        work_threads=threads_for_store(store_url),
        **(sms_limits(file_config) if file_config is not None else {}),
    )
    mail = outbox or DevOutbox(database=root / _OUTBOX)
    provider = Provider(
        settings,
        store,
        master,
        mail,
        signing_alg=config["signing_alg"],
        clock=clock,
        outbox=mail,
        upstreams=upstreams_from_config(file_config.document.get("upstreams"))
        if file_config is not None
        else (),
        sms_sender=sms_sender(file_config) if file_config is not None else None,
    )
    spa = ClientRecord(
        client_id="dev-spa",
        name="Development single-page app",
        redirect_uris=(
            "http://127.0.0.1:*/callback",
            "http://localhost:*/callback",
            issuer + DEV_CALLBACK_PATH,
        ),
        post_logout_redirect_uris=("http://127.0.0.1:*/", "http://localhost:*/"),
        scopes=DEV_SCOPES,
    )
    register_client(store, spa)
    register_client(
        store, replace(spa, client_id="dev-partner", name="Development third-party app", first_party=False)
    )
    secret = env.get(DEV_SERVICE_SECRET_ENV)
    existing = store.get_client("dev-service")
    new_secret = None
    if secret:
        if len(secret) < 32:
            raise ConfigurationError(f"{DEV_SERVICE_SECRET_ENV} must be at least 32 characters")
    elif existing is None or existing.secret_hash is None:
        secret = new_secret = secrets.token_urlsafe(32)
    register_client(
        store,
        ClientRecord(
            client_id="dev-service",
            name="Development backend service",
            auth_methods=("client_secret_basic", "client_secret_post"),
            secret_hash=hash_client_secret(secret)
            if secret
            else (existing.secret_hash if existing else None),
            grant_types=("client_credentials",),
            scopes=("demo:read",),
        ),
    )
    for spec in users or ((f"{DEV_USER}:admin",) if not store.list_users(limit=1) else ()):
        email, roles = parse_user(spec)
        known = store.find_user_by_email(email)
        user_id = known.user_id if known is not None else new_user_id()
        store.put_user(
            User(user_id=user_id, email=email, email_verified=True, name=email.split("@")[0], roles=roles)
        )
    if file_config is not None:
        register_configured(store, file_config, env)
    if not config_path.exists():
        config_path.write_text(json.dumps(config, indent=2) + "\n")
    shown = store.list_users(limit=SHOWN_USERS + 1)
    return DevSetup(provider, new_secret, tuple(user.email for user in shown))


def app_from_environment() -> Starlette:
    """The app of one ``tessera dev --workers N`` worker process.

    The parent process has already set up the data directory (``TESSERA_DEV_DATA``) for the
    issuer ``TESSERA_DEV_ISSUER``, with the ``tessera.toml`` in ``TESSERA_CONFIG`` if any;
    every worker opens the same store and the same outbox file.
    Each worker serves many connections, so its store work leaves the event loop too.
    """
    from tessera.config import read_config
    from tessera.config.locations import CONFIG_ENV
    from tessera.issue.app import create_app

    config_file = os.environ.get(CONFIG_ENV)
    setup = dev_provider(
        os.environ[DEV_DATA_ENV],
        os.environ[DEV_ISSUER_ENV],
        store_url=os.environ.get(STORE_ENV),
        store_cache=os.environ.get(CACHE_ENV),
        file_config=read_config(config_file) if config_file else None,
    )
    return create_app(setup.provider)
