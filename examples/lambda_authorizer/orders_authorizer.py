"""tessera's Lambda authorizer for the orders API (a REST API TOKEN authorizer).

The issuer, the audience and the route rules come from the examples' ``tessera.toml`` (a
deployed authorizer bundles its own beside the code and calls ``tessera.config.load()``). The
policy it returns lists every route: Allow for the ones the caller's scopes permit, Deny for the
rest, so API Gateway may cache it (TTL 300 s) and reuse it on any route. ``TESSERA_ISSUER``,
``TESSERA_AUDIENCE`` and ``TESSERA_JWKS_FILE`` (a bundled JWKS instead of OpenID discovery)
override the file (docs/config.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tessera.config
from tessera.protect.authorizer import LambdaAuthorizer

config = tessera.config.load(Path(__file__).resolve().parent.parent / "tessera.toml")

authorizer = LambdaAuthorizer(
    config.verifier(),
    config.routes,
    context_claims=["scope"],
    cache_ttl_seconds=300,
    identity_sources=["method.request.header.Authorization"],
)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: raises ``Unauthorized`` (401) or returns an IAM policy."""
    return authorizer(event, context)
