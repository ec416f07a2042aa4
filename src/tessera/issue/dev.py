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

from ..errors import ConfigurationError
from ..keys.sealing import MasterKey
from ..store import ClientRecord, User
from ..store.sqlite import SQLiteStore
from ..store.url import CACHE_ENV, STORE_ENV, open_store
from .client_auth import hash_client_secret
from .clients import register_client
from .mail import DevOutbox
from .provider import Provider
from .settings import ProviderSettings
from .subjects import new_user_id

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "DEV_DATA_ENV",
    "DEV_ISSUER_ENV",
    "DEV_SERVICE_SECRET_ENV",
    "DEV_WORKERS_ENV",
    "DevSetup",
    "app_from_environment",
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


@dataclass(frozen=True)
class DevSetup:
    """What ``tessera dev`` built: the provider and the one-time secret to print, if new."""

    provider: Provider
    new_service_secret: str | None


def parse_user(spec: str) -> tuple[str, tuple[str, ...]]:
    """``EMAIL[:role,role]`` → (email, roles)."""
    email, _, roles = spec.partition(":")
    email = email.strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise ConfigurationError(f"--user needs EMAIL[:role,role], not {spec!r}")
    return email, tuple(r.strip() for r in roles.split(",") if r.strip())


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
) -> DevSetup:
    """Open (or create on first run) a dev installation in ``data_dir`` and build its provider.

    The store is SQLite in ``data_dir`` unless ``store_url`` names another (:mod:`tessera.store.url`).
    """
    env = os.environ if environ is None else environ
    root = Path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    master = MasterKey.load(root, env)
    config_path = root / _CONFIG
    config = (
        json.loads(config_path.read_text())
        if config_path.exists()
        else {"signing_alg": signing_alg or "RS256"}
    )
    if signing_alg is not None and signing_alg != config["signing_alg"]:
        raise ConfigurationError(
            f"{root} signs with {config['signing_alg']}; the algorithm is chosen on first start only"
        )
    store = open_store(store_url, store_cache) if store_url else SQLiteStore(root / "tessera.db")
    settings = ProviderSettings(
        issuer=issuer,
        dev_mode=True,
        sign_in_resend_seconds=DEV_RESEND_SECONDS,
        token_requests_per_minute_per_address=None,  # everything is loopback; benchmarks hammer /token
        check_host=True,  # DNS rebinding would let any web page read the dev outbox
    )
    mail = outbox or DevOutbox(database=root / _OUTBOX)
    provider = Provider(
        settings, store, master, mail, signing_alg=config["signing_alg"], clock=clock, outbox=mail
    )
    spa = ClientRecord(
        client_id="dev-spa",
        name="Development single-page app",
        redirect_uris=("http://127.0.0.1:*/callback", "http://localhost:*/callback"),
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
    for spec in users:
        email, roles = parse_user(spec)
        known = store.find_user_by_email(email)
        user_id = known.user_id if known is not None else new_user_id()
        store.put_user(
            User(user_id=user_id, email=email, email_verified=True, name=email.split("@")[0], roles=roles)
        )
    if not config_path.exists():
        config_path.write_text(json.dumps(config, indent=2) + "\n")
    return DevSetup(provider, new_secret)


def app_from_environment() -> Starlette:
    """The app of one ``tessera dev --workers N`` worker process.

    The parent process has already set up the data directory (``TESSERA_DEV_DATA``) for the
    issuer ``TESSERA_DEV_ISSUER``; every worker opens the same store and the same outbox file.
    Each worker serves many connections, so its store work leaves the event loop too.
    """
    from .app import create_app

    setup = dev_provider(
        os.environ[DEV_DATA_ENV],
        os.environ[DEV_ISSUER_ENV],
        store_url=os.environ.get(STORE_ENV),
        store_cache=os.environ.get(CACHE_ENV),
    )
    return create_app(setup.provider)
