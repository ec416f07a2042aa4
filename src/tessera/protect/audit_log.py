"""One log line per refused request: the reason code and the route, never the token.

Everything that refuses a request (the framework adapters through :class:`~tessera.protect.Guard`,
the Lambda authorizer, ``tessera gateway``) calls :func:`log_rejection`. The logger is
``tessera``, at WARNING so it shows with no logging set up at all; on Lambda (where
``AWS_LAMBDA_FUNCTION_NAME`` is set) the line is one JSON object, for CloudWatch Logs Insights.
"""

from __future__ import annotations

import json
import logging
import os

__all__ = ["LOGGER_NAME", "log_rejection"]

LOGGER_NAME = "tessera"
_MAX_ROUTE_CHARS = 200
logger = logging.getLogger(LOGGER_NAME)


def _clean(value: str | None) -> str:
    """``value`` as one short printable line: no query string, no control characters."""
    if not value:
        return "-"
    text = value.split("?", 1)[0][:_MAX_ROUTE_CHARS]
    return "".join(c if c.isprintable() and c != " " else "?" for c in text)


def log_rejection(
    source: str,
    reason: str,
    *,
    method: str | None = None,
    route: str | None = None,
    status: int | None = None,
) -> None:
    """Log that ``source`` refused ``method route`` because of ``reason`` (a stable code)."""
    if not logger.isEnabledFor(logging.WARNING):
        return
    shown_method, shown_route = _clean(method), _clean(route)
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        record: dict[str, str | int] = {
            "event": "request_rejected",
            "source": source,
            "reason": reason,
            "method": shown_method,
            "route": shown_route,
        }
        if status is not None:
            record["status"] = status
        logger.warning("%s", json.dumps(record, separators=(",", ":")))
        return
    answer = f" ({status})" if status is not None else ""
    logger.warning("%s refused %s %s: %s%s", source, shown_method, shown_route, reason, answer)
