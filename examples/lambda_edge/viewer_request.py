"""A Lambda@Edge viewer-request function: answer 401/403 at the edge, or forward the request.

Lambda@Edge has no environment variables and should not fetch keys while a viewer waits, so
the settings and the keys are bundled beside the code at deploy time::

    tessera jwks fetch https://id.example.com > jwks.json
    echo '{"issuer": "https://id.example.com", "audience": "media"}' > config.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tessera.protect import Principal
from tessera.protect.lambda_edge import authorize
from tessera.verify import Verifier

HERE = Path(__file__).resolve().parent
config = json.loads((HERE / "config.json").read_text())

verifier = Verifier(
    issuer=config["issuer"], audience=config["audience"], token_type="at+jwt", jwks=HERE / "jwks.json"
)


@authorize(verifier, scopes=["media:read"])
def handler(event: dict[str, Any], context: Any, principal: Principal) -> dict[str, Any]:
    """Forward the viewer's request to the origin, telling it who the caller is."""
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    request["headers"]["x-caller"] = [{"key": "X-Caller", "value": principal.principal_id}]
    return request
