"""A Google Cloud Function (functions-framework) protected by tessera.

The issuer and the audience come from the examples' ``tessera.toml`` (a deployed function
bundles its own and calls ``tessera.config.load()``); ``TESSERA_ISSUER``, ``TESSERA_AUDIENCE``
and ``TESSERA_JWKS_FILE`` (bundled keys instead of OpenID discovery) override it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework

import tessera.config
from tessera.protect import Principal
from tessera.protect.gcf import authorize

verifier = tessera.config.load(Path(__file__).resolve().parent.parent / "tessera.toml").verifier()


@functions_framework.http
@authorize(verifier, scopes=["orders:read"])
def orders(request: Any, principal: Principal) -> dict[str, Any]:
    """Needs the ``orders:read`` scope; answers with the caller and the requested path."""
    return {"owner": principal.principal_id, "path": request.path}
