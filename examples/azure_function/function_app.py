"""An Azure Function (Python v2 programming model) protected by tessera.

The issuer and the audience come from the examples' ``tessera.toml``; the application settings
``TESSERA_ISSUER``, ``TESSERA_AUDIENCE`` and ``TESSERA_JWKS_FILE`` (bundled keys instead of
OpenID discovery) override it.
"""

from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func

import tessera.config
from tessera.protect import Principal
from tessera.protect.azure_functions import authorize

verifier = tessera.config.load(Path(__file__).resolve().parent.parent / "tessera.toml").verifier()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orders/{id}", methods=["GET"])
@authorize(verifier, scopes=["orders:read"])
def get_order(req: func.HttpRequest, principal: Principal) -> func.HttpResponse:
    """Needs the ``orders:read`` scope."""
    body = {"order": req.route_params.get("id"), "owner": principal.principal_id}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
