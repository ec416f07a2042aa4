"""Who called: the authenticated principal handed to a protected handler."""

from __future__ import annotations

from ..errors import Reason, TokenError
from ..verify.claims import Claims

__all__ = ["Principal"]

_CLIENT_PREFIX = "client:"
_USER_PREFIX = "user:"
_CLIENT_GRANT_TYPES = frozenset({"client_credentials", "client-credentials"})


class Principal:
    """The verified caller.

    ``is_client`` is true for a token with no user behind it (client credentials: no ``sub``,
    ``sub`` equal to ``client_id``, or ``gty`` naming the grant). ``principal_id`` is the
    ``sub`` for users and ``client:<client_id>`` for clients, so the two can never collide
    (a user whose ``sub`` itself starts with ``client:`` or ``user:`` gets ``user:<sub>``).
    Immutable: every attribute is read-only.
    """

    # A plain class rather than a frozen dataclass: one is built per verified token, and a
    # frozen dataclass's __init__ costs several times as much.
    __slots__ = ("_claims", "_client_id", "_is_client", "_principal_id", "_roles", "_scopes", "_subject")

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass this was took them
        self,
        subject: str | None,
        claims: Claims,
        scopes: frozenset[str],
        roles: frozenset[str],
        client_id: str | None,
        is_client: bool,
        principal_id: str,
    ) -> None:
        self._subject = subject
        self._claims = claims
        self._scopes = scopes
        self._roles = roles
        self._client_id = client_id
        self._is_client = is_client
        self._principal_id = principal_id

    @property
    def subject(self) -> str | None:
        """The ``sub`` claim (None for a client without one)."""
        return self._subject

    @property
    def claims(self) -> Claims:
        """Every verified claim."""
        return self._claims

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes."""
        return self._scopes

    @property
    def roles(self) -> frozenset[str]:
        """The roles held (from the verifier's roles claim)."""
        return self._roles

    @property
    def client_id(self) -> str | None:
        """``client_id`` (or ``azp``), when present."""
        return self._client_id

    @property
    def is_client(self) -> bool:
        """True when no user is behind the token."""
        return self._is_client

    @property
    def principal_id(self) -> str:
        """A stable identifier: the ``sub`` for users, ``client:<client_id>`` for clients."""
        return self._principal_id

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
            principal_id = (
                _USER_PREFIX + subject if subject.startswith((_CLIENT_PREFIX, _USER_PREFIX)) else subject
            )
        elif client_id is not None:
            principal_id = _CLIENT_PREFIX + client_id
        else:
            raise TokenError(Reason.MISSING_CLAIM, claim="client_id")
        return cls(subject, claims, claims.scopes, claims.roles, client_id, is_client, principal_id)

    def _fields(self) -> tuple[object, ...]:
        return (
            self._subject,
            self._claims,
            self._scopes,
            self._roles,
            self._client_id,
            self._is_client,
            self._principal_id,
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not Principal:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Principal(principal_id={self._principal_id!r}, subject={self._subject!r}, "
            f"client_id={self._client_id!r}, is_client={self._is_client!r}, scopes={sorted(self._scopes)})"
        )
