"""A FastAPI app protected by tessera, run on Lambda through Mangum (or anywhere ASGI runs).

Configuration comes from the environment: ``TESSERA_ISSUER`` (keys found by OpenID discovery),
``TESSERA_AUDIENCE`` (default ``orders-api``) and, to bundle the keys instead of fetching them,
``TESSERA_JWKS_FILE`` (``tessera jwks fetch ISSUER > jwks.json`` at deploy time).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from mangum import Mangum

from tessera.protect import Principal
from tessera.protect.asgi import authorize
from tessera.verify import Verifier

verifier = Verifier(
    issuer=os.environ["TESSERA_ISSUER"],
    audience=os.environ.get("TESSERA_AUDIENCE", "orders-api"),
    token_type="at+jwt",
    jwks=os.environ.get("TESSERA_JWKS_FILE") or None,
)

app = FastAPI(title="orders")


@app.get("/health")
def health() -> dict[str, bool]:
    """Public: no token needed."""
    return {"ok": True}


@app.get("/orders/{order_id}")
@authorize(verifier, scopes=["orders:read"])
async def get_order(order_id: str, principal: Principal) -> dict[str, Any]:
    """Needs the ``orders:read`` scope."""
    return {"order": order_id, "owner": principal.principal_id}


@app.delete("/orders/{order_id}")
@authorize(verifier, scopes=["orders:write"])
async def delete_order(order_id: str, principal: Principal) -> dict[str, Any]:
    """Needs the ``orders:write`` scope."""
    return {"deleted": order_id, "by": principal.principal_id}


handler = Mangum(app, lifespan="off")
