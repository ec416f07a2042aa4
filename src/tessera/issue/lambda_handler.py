"""The provider on AWS Lambda (API Gateway HTTP API or REST API) through Mangum.

Point the function's handler at ``tessera.issue.lambda_handler.handler``; it builds the provider
from the environment on the first invocation and reuses it while the container lives:

- ``TESSERA_ISSUER``: the public issuer URL (https);
- ``TESSERA_STORE``: the store URL (``dynamodb://TABLE?region=...``, ``postgresql://...``; see
  :mod:`tessera.store.url`), with ``TESSERA_STORE_CACHE`` for Redis beside it; opened once per
  container, so warm invocations reuse its connections. Without it, SQLite in ``TESSERA_DATA``;
- ``TESSERA_DATA``: where the SQLite file and master key live (default ``/tmp/tessera``; use a
  mounted EFS path, since ``/tmp`` does not outlive the container);
- ``TESSERA_MASTER_KEY``: the base64url master key (keep it in Secrets Manager);
- ``TESSERA_SMTP_HOST``, ``TESSERA_SMTP_PORT``, ``TESSERA_MAIL_FROM``, ``TESSERA_SMTP_USERNAME``,
  ``TESSERA_SMTP_PASSWORD``: where sign-in codes are mailed from (STARTTLS);
- ``TESSERA_TRUSTED_PROXIES``: optional, comma-separated addresses or CIDR blocks of proxies
  whose ``X-Forwarded-For`` names the client (API Gateway's own source address needs none).

Sign-in mails are queued in the store and sent by a thread that runs while the container is
not frozen (usually during the browser's next request, for the code page). An invocation with
the event ``{"tessera": "send-mail"}`` (an EventBridge schedule, say) sends whatever is due, so
a mail queued just before the container froze is not left waiting for the next visitor.

Or build your own: ``handler = make_handler(provider)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .app import create_app
from .provider import Provider

__all__ = ["handler", "make_handler", "provider_from_environment"]

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
_cached: list[LambdaHandler] = []
SEND_MAIL = "send-mail"


def make_handler(provider: Provider) -> LambdaHandler:
    """A Lambda handler serving ``provider``; ``{"tessera": "send-mail"}`` sends the queued mail.

    Mangum's lifespan is off: the mail sender starts with the first mail a container queues.
    """
    from mangum import Mangum

    adapter = Mangum(create_app(provider, demo=provider.settings.dev_mode), lifespan="off")

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("tessera") == SEND_MAIL:
            return {"handled": provider.outgoing.drain()}
        result: dict[str, Any] = adapter(event, context)
        return result

    return invoke


def provider_from_environment(environ: Mapping[str, str] | None = None) -> Provider:
    """A provider configured from ``TESSERA_*`` variables (see the module docstring)."""
    from ..keys.sealing import MasterKey
    from ..store import Store
    from ..store.sqlite import SQLiteStore
    from ..store.url import CACHE_ENV, STORE_ENV, open_store
    from .mail import SMTPMailer
    from .settings import ProviderSettings

    env = os.environ if environ is None else environ
    try:
        issuer = env["TESSERA_ISSUER"]
        mailer = SMTPMailer(
            env["TESSERA_SMTP_HOST"],
            int(env.get("TESSERA_SMTP_PORT", "587")),
            env["TESSERA_MAIL_FROM"],
            starttls=True,
            username=env.get("TESSERA_SMTP_USERNAME"),
            password=env.get("TESSERA_SMTP_PASSWORD"),
        )
    except KeyError as missing:
        raise ConfigurationError(f"the environment variable {missing.args[0]} is required") from None
    root = Path(env.get("TESSERA_DATA", "/tmp/tessera"))  # noqa: S108 - Lambda's only writable path
    root.mkdir(parents=True, exist_ok=True)
    proxies = tuple(p.strip() for p in env.get("TESSERA_TRUSTED_PROXIES", "").split(",") if p.strip())
    url = env.get(STORE_ENV)
    store: Store = open_store(url, env.get(CACHE_ENV)) if url else SQLiteStore(root / "tessera.db")
    return Provider(
        ProviderSettings(issuer=issuer, trusted_proxies=proxies, work_in_thread=False),
        store,
        MasterKey.load(root, env),
        mailer,
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    if not _cached:
        _cached.append(make_handler(provider_from_environment()))
    return _cached[0](event, context)
