"""Tessera's OpenID Connect provider on Cloud Run or Cloud Functions (2nd gen).

Served by functions-framework in ASGI mode (``functions-framework --asgi --target provider``):
each request goes, with its own scope and body, to the provider's ASGI app. The provider is built
from the environment (``TESSERA_ISSUER``, ``TESSERA_STORE`` on Cloud SQL for PostgreSQL,
``TESSERA_MASTER_KEY`` from Secret Manager, the SMTP settings; see docs/deploy.md) on the first
request, and kept while the instance lives.
"""

from typing import Any

from functions_framework.aio import http

from tessera.issue.hosting.cloud import forward, provider_app

_provider = provider_app()


@http
async def provider(request: Any) -> Any:
    """Every request, answered by the provider."""
    return await forward(_provider, request)
