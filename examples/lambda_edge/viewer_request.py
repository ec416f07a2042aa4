"""A Lambda@Edge viewer-request function: answer 401/403 at the edge, or forward the request.

Lambda@Edge has no environment variables and should not fetch keys while a viewer waits, so
the configuration and the keys are bundled beside the code at deploy time::

    cp examples/tessera.toml examples/lambda_edge/tessera.toml    # with the real [provider].issuer
    tessera jwks fetch https://id.example.com > examples/lambda_edge/jwks.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tessera.config
from tessera.protect import Principal
from tessera.protect.lambda_edge import authorize

HERE = Path(__file__).resolve().parent
verifier = tessera.config.load(HERE / "tessera.toml").verifier(jwks=HERE / "jwks.json")


@authorize(verifier, scopes=["orders:read"])
def handler(event: dict[str, Any], context: Any, principal: Principal) -> dict[str, Any]:
    """Forward the viewer's request to the origin, telling it who the caller is."""
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    request["headers"]["x-caller"] = [{"key": "X-Caller", "value": principal.principal_id}]
    return request
