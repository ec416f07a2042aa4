"""A Google Cloud Function (functions-framework) protected by tessera.

Environment: ``TESSERA_ISSUER``, ``TESSERA_AUDIENCE`` (default ``orders-api``) and optionally
``TESSERA_JWKS_FILE`` (bundled keys; else OpenID discovery).
"""

from __future__ import annotations

import os
from typing import Any

import functions_framework

from tessera.protect import Principal
from tessera.protect.gcf import authorize
from tessera.verify import Verifier

verifier = Verifier(
    issuer=os.environ["TESSERA_ISSUER"],
    audience=os.environ.get("TESSERA_AUDIENCE", "orders-api"),
    token_type="at+jwt",
    jwks=os.environ.get("TESSERA_JWKS_FILE") or None,
)


@functions_framework.http
@authorize(verifier, scopes=["orders:read"])
def orders(request: Any, principal: Principal) -> dict[str, Any]:
    """Needs the ``orders:read`` scope; answers with the caller and the requested path."""
    return {"owner": principal.principal_id, "path": request.path}
