"""Audit events as one JSON object per log line, on the ``tessera.audit`` logger.

Only identifiers go in (event name, client id, user id, grant id, key id): never a token, a
code, a secret, a cookie or an email body (G3, STO-06).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

__all__ = ["AUDIT_EVENTS", "AuditLog"]

AUDIT_EVENTS = frozenset(
    {
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "token_issued",
        "code_reuse_detected",
        "refresh_reuse_detected",
        "token_revoked",
        "key_rotated",
        "client_auth_failed",
        "consent_granted",
        "consent_denied",
        "user_signed_up",
        "passkey_registered",
        "passkey_removed",
        "passkey_sign_count_regression",
        "upstream_linked",
        "upstream_unlinked",
        "upstream_sign_in_failed",
        "user_created",
        "second_factor_required",
        "totp_enrolled",
        "totp_removed",
        "totp_recovery_codes_regenerated",
        "totp_recovery_code_used",
    }
)
_ALLOWED_FIELDS = frozenset(
    {"client_id", "user_id", "grant_id", "kid", "grant_type", "reason", "upstream", "how", "amr"}
)


class AuditLog:
    """Writes audit events; fields outside a fixed allow-list are refused, not logged."""

    def __init__(self, clock: Callable[[], float], logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("tessera.audit")
        self._clock = clock

    def event(self, name: str, **fields: str | None) -> None:
        """Log the event ``name`` with identifier ``fields``."""
        if name not in AUDIT_EVENTS or not set(fields) <= _ALLOWED_FIELDS:
            raise ValueError("unknown audit event or field")
        if not self._logger.isEnabledFor(logging.INFO):
            return
        record = {"event": name, "time": int(self._clock())}
        record.update({k: v for k, v in fields.items() if v is not None})
        self._logger.info(json.dumps(record, sort_keys=True))
