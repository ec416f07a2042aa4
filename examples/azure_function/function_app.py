"""An Azure Function (Python v2 programming model) protected by tessera.

Application settings (environment): ``TESSERA_ISSUER``, ``TESSERA_AUDIENCE`` (default
``orders-api``) and optionally ``TESSERA_JWKS_FILE`` (bundled keys; else OpenID discovery).
"""

from __future__ import annotations

import json
import os

import azure.functions as func

from tessera.protect import Principal
from tessera.protect.azure_functions import authorize
from tessera.verify import Verifier

verifier = Verifier(
    issuer=os.environ["TESSERA_ISSUER"],
    audience=os.environ.get("TESSERA_AUDIENCE", "orders-api"),
    token_type="at+jwt",
    jwks=os.environ.get("TESSERA_JWKS_FILE") or None,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orders/{id}", methods=["GET"])
@authorize(verifier, scopes=["orders:read"])
def get_order(req: func.HttpRequest, principal: Principal) -> func.HttpResponse:
    """Needs the ``orders:read`` scope."""
    body = {"order": req.route_params.get("id"), "owner": principal.principal_id}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
