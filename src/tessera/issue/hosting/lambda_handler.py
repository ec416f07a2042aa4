"""The provider on AWS Lambda (API Gateway HTTP API or REST API) through Mangum.

Point the function's handler at ``tessera.issue.hosting.lambda_handler.handler``; it builds the provider
from the environment on the first invocation (:mod:`tessera.issue.hosting.environment` lists the
variables) and reuses it while the container lives, so the store's connections, and the master
key read from Secrets Manager (``TESSERA_MASTER_KEY_SECRET``, the secret's ARN), are fetched once
per cold start. ``deploy/aws/template.yaml`` is the SAM template for all of it.

Sign-in mails are queued in the store and sent by a thread that runs while the container is
not frozen (usually during the browser's next request, for the code page). An invocation with
the event ``{"tessera": "send-mail"}`` (an EventBridge schedule, say) sends whatever is due, so
a mail queued just before the container froze is not left waiting for the next visitor.

Or build your own: ``handler = make_handler(provider)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tessera.issue.app import create_app
from tessera.issue.hosting.environment import provider_from_environment
from tessera.issue.provider import Provider

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


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point."""
    if not _cached:
        _cached.append(make_handler(provider_from_environment()))
    return _cached[0](event, context)
