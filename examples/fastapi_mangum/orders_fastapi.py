"""A FastAPI app protected by tessera, run on Lambda through Mangum (or anywhere ASGI runs).

The issuer and the audience come from the examples' ``tessera.toml`` (keys found by OpenID
discovery); ``TESSERA_ISSUER``, ``TESSERA_AUDIENCE`` and, to bundle the keys instead of fetching
them, ``TESSERA_JWKS_FILE`` (``tessera jwks fetch ISSUER > jwks.json`` at deploy time) override it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from mangum import Mangum

import tessera.config
from tessera.protect import Principal
from tessera.protect.asgi import authorize

verifier = tessera.config.load(Path(__file__).resolve().parent.parent / "tessera.toml").verifier()

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
