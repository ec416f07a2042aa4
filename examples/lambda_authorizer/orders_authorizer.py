"""tessera's Lambda authorizer for the orders API (a REST API TOKEN authorizer).

The policy it returns lists every route in routes.toml: Allow for the ones the caller's scopes
permit, Deny for the rest, so API Gateway may cache it (TTL 300 s) and reuse it on any route.
Configuration: ``TESSERA_ISSUER``, ``TESSERA_AUDIENCE`` (default ``orders-api``) and optionally
``TESSERA_JWKS_FILE`` (a bundled JWKS; without it the keys come from OpenID discovery).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tessera.protect.authorizer import LambdaAuthorizer
from tessera.protect.routes import load_routes
from tessera.verify import Verifier

verifier = Verifier(
    issuer=os.environ["TESSERA_ISSUER"],
    audience=os.environ.get("TESSERA_AUDIENCE", "orders-api"),
    token_type="at+jwt",
    jwks=os.environ.get("TESSERA_JWKS_FILE") or None,
)

authorizer = LambdaAuthorizer(
    verifier,
    load_routes(Path(__file__).with_name("routes.toml")),
    context_claims=["scope"],
    cache_ttl_seconds=300,
    identity_sources=["method.request.header.Authorization"],
)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: raises ``Unauthorized`` (401) or returns an IAM policy."""
    return authorizer(event, context)
