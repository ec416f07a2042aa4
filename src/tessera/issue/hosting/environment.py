"""The provider built from ``TESSERA_*`` environment variables: the one reader for every cloud.

The Lambda handler, the Azure Function and the Cloud Run / Cloud Functions entry point all build
their provider here, once per cold start:

- ``TESSERA_ISSUER``: the public issuer URL (https);
- ``TESSERA_STORE``: the store URL (``dynamodb://TABLE?region=...``, ``postgresql://...``; see
  :mod:`tessera.store.url`), with ``TESSERA_STORE_CACHE`` for Redis beside it. Without it,
  SQLite in ``TESSERA_DATA``;
- ``TESSERA_DATA``: where the SQLite file and a file master key live (default ``/tmp/tessera``);
- ``TESSERA_MASTER_KEY_SECRET``: the ARN of the AWS Secrets Manager secret holding the master key
  (read once, with the function's own credentials), or ``TESSERA_MASTER_KEY``: the base64url
  master key itself (an app setting fed from Key Vault or Secret Manager); neither: a file in
  ``TESSERA_DATA``;
- ``TESSERA_SMTP_HOST``, ``TESSERA_SMTP_PORT`` (587), ``TESSERA_MAIL_FROM``,
  ``TESSERA_SMTP_USERNAME``, ``TESSERA_SMTP_PASSWORD`` (empty: none): where sign-in codes are mailed from,
  over STARTTLS; ``TESSERA_SMTP_STARTTLS=false`` only for a relay on loopback (a sidecar);
- ``TESSERA_TRUSTED_PROXIES``: optional, comma-separated addresses or CIDR blocks of proxies
  whose ``X-Forwarded-For`` names the client;
- ``TESSERA_PROVIDER_NAME``, ``TESSERA_LOGO`` and ``TESSERA_TEMPLATES``: optional, the hosted
  pages' name, logo (an https URL or an image file deployed with the function) and template
  folder (``[provider]`` ``name``, ``logo`` and ``templates`` of ``tessera.toml``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tessera.errors import ConfigurationError

if TYPE_CHECKING:
    from tessera.issue.mail.delivery import SMTPMailer
    from tessera.issue.provider import Provider
    from tessera.keys.sealing import MasterKey

__all__ = ["master_key_from_environment", "provider_from_environment"]

_FALSE = ("false", "0", "no", "off")
_TRUE = ("true", "1", "yes", "on")


def master_key_from_environment(env: Mapping[str, str], data_dir: Path) -> MasterKey:
    """The master key: Secrets Manager (``TESSERA_MASTER_KEY_SECRET``), else :meth:`MasterKey.load`."""
    from tessera.keys.aws_secret import MASTER_KEY_SECRET_ENV, master_key_from_secret
    from tessera.keys.sealing import MASTER_KEY_ENV, MasterKey

    arn = env.get(MASTER_KEY_SECRET_ENV, "").strip()
    if arn and env.get(MASTER_KEY_ENV):
        raise ConfigurationError(f"set {MASTER_KEY_SECRET_ENV} or {MASTER_KEY_ENV}, not both")
    if arn:
        return master_key_from_secret(arn)
    return MasterKey.load(data_dir, env)


def _mailer(env: Mapping[str, str]) -> SMTPMailer:
    from tessera.issue.mail.delivery import SMTPMailer

    host = env["TESSERA_SMTP_HOST"]
    try:
        port = int(env.get("TESSERA_SMTP_PORT", "587"))
    except ValueError:
        raise ConfigurationError("TESSERA_SMTP_PORT must be a port number") from None
    flag = env.get("TESSERA_SMTP_STARTTLS", "true").strip().lower()
    if flag not in _TRUE + _FALSE:
        raise ConfigurationError("TESSERA_SMTP_STARTTLS must be true or false")
    starttls = flag in _TRUE
    if not starttls and host not in ("localhost", "127.0.0.1", "::1"):
        raise ConfigurationError("TESSERA_SMTP_STARTTLS=false is allowed only for a relay on loopback")
    return SMTPMailer(
        host,
        port,
        env["TESSERA_MAIL_FROM"],
        starttls=starttls,
        username=env.get("TESSERA_SMTP_USERNAME") or None,
        password=env.get("TESSERA_SMTP_PASSWORD") or None,
    )


def provider_from_environment(environ: Mapping[str, str] | None = None) -> Provider:
    """A provider configured from ``TESSERA_*`` variables (see the module docstring)."""
    from tessera.issue.provider import Provider
    from tessera.issue.settings import ProviderSettings
    from tessera.store import Store
    from tessera.store.sqlite import SQLiteStore
    from tessera.store.url import CACHE_ENV, STORE_ENV, open_store

    env = os.environ if environ is None else environ
    try:
        issuer = env["TESSERA_ISSUER"]
        mailer = _mailer(env)
    except KeyError as missing:
        raise ConfigurationError(f"the environment variable {missing.args[0]} is required") from None
    root = Path(env.get("TESSERA_DATA", "/tmp/tessera"))  # noqa: S108 - a function's only writable path
    proxies = tuple(p.strip() for p in env.get("TESSERA_TRUSTED_PROXIES", "").split(",") if p.strip())
    templates = env.get("TESSERA_TEMPLATES", "").strip()
    settings = ProviderSettings(
        issuer=issuer,
        trusted_proxies=proxies,
        work_in_thread=False,
        name=env.get("TESSERA_PROVIDER_NAME", "").strip() or "Tessera",
        logo=env.get("TESSERA_LOGO", "").strip() or None,
        templates=Path(templates) if templates else None,
    )
    master = master_key_from_environment(env, root)
    url = env.get(STORE_ENV)
    if not url:
        root.mkdir(parents=True, exist_ok=True)
    store: Store = open_store(url, env.get(CACHE_ENV)) if url else SQLiteStore(root / "tessera.db")
    return Provider(settings, store, master, mailer)
