"""The orders API handler behind the authorizer (REST API proxy integration, payload 1.0).

It trusts only what API Gateway puts in ``requestContext.authorizer`` (set by the authorizer
from verified claims), never client headers (LAM-07).
"""

from __future__ import annotations

import json
from typing import Any


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """List, read or delete orders; the caller is ``requestContext.authorizer.principalId``."""
    caller = event["requestContext"]["authorizer"]["principalId"]
    order_id = (event.get("pathParameters") or {}).get("id")
    if event["httpMethod"] == "DELETE":
        return _reply(200, {"deleted": order_id, "by": caller})
    if order_id is None:
        return _reply(200, {"orders": ["1", "2"], "owner": caller})
    return _reply(200, {"order": order_id, "owner": caller})
