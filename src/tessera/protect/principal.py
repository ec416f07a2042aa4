"""Who called: the authenticated principal handed to a protected handler."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Reason, TokenError
from ..verify.claims import Claims

__all__ = ["Principal"]

_CLIENT_PREFIX = "client:"
_USER_PREFIX = "user:"
_CLIENT_GRANT_TYPES = frozenset({"client_credentials", "client-credentials"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller.

    ``is_client`` is true for a token with no user behind it (client credentials: no ``sub``,
    ``sub`` equal to ``client_id``, or ``gty`` naming the grant). ``principal_id`` is the
    ``sub`` for users and ``client:<client_id>`` for clients, so the two can never collide
    (a user whose ``sub`` itself starts with ``client:`` or ``user:`` gets ``user:<sub>``).
    """

    subject: str | None
    claims: Claims
    scopes: frozenset[str]
    roles: frozenset[str]
    client_id: str | None
    is_client: bool
    principal_id: str

    @classmethod
    def from_claims(cls, claims: Claims) -> Principal:
        """The principal a verified token describes; raise when it names nobody."""
        subject, client_id = claims.subject, claims.client_id
        is_client = (
            subject is None
            or (client_id is not None and subject == client_id)
            or claims.get("gty") in _CLIENT_GRANT_TYPES
        )
        if subject is not None and not is_client:
            reserved = subject.startswith((_CLIENT_PREFIX, _USER_PREFIX))
            principal_id = _USER_PREFIX + subject if reserved else subject
        elif client_id is not None:
            principal_id = _CLIENT_PREFIX + client_id
        else:
            raise TokenError(Reason.MISSING_CLAIM, claim="client_id")
        return cls(
            subject=subject,
            claims=claims,
            scopes=claims.scopes,
            roles=claims.roles,
            client_id=client_id,
            is_client=is_client,
            principal_id=principal_id,
        )
