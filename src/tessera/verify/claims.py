"""Verified claims, and the claims policy: a pure function of the claims, the header and a clock.

A configured expectation implies presence: with an issuer configured, ``iss`` must exist and
match exactly. ``exp`` is always required. Times are NumericDate JSON numbers only (RFC 7519
§2): never strings, never booleans, always finite and within a sane range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from ..errors import ConfigurationError, Reason, TokenError

__all__ = ["ANY", "ClaimCheck", "Claims", "ClaimsPolicy", "numeric_date", "parse_scope"]

MAX_LEEWAY_SECONDS = 300
_MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z
_EMPTY: frozenset[str] = frozenset()
_ABSENT: Final = object()
# Scope strings repeat from token to token; each distinct valid one is parsed once.
_scope_sets: dict[str, frozenset[str]] = {}
_SCOPE_CACHE_SIZE = 256


class _Any:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _Any()
"""Explicitly waives a check (``audience=ANY``, ``token_type=ANY``); never the silent default."""

AnyValue = _Any


class Claims(Mapping[str, Any]):
    """The claims of a verified token, read-only.

    Besides the mapping of raw claims it exposes the values an authorization decision needs:
    ``subject``, ``issuer``, ``scopes`` (from ``scope`` or ``scp``), ``roles`` (from the
    configured roles claim), ``client_id`` and ``expires_at``.
    """

    __slots__ = ("_raw", "roles", "scopes", "token_type")

    def __init__(
        self,
        raw: dict[str, Any],
        scopes: frozenset[str] = _EMPTY,
        roles: frozenset[str] = _EMPTY,
        token_type: str | None = None,
    ) -> None:
        self._raw = raw
        self.scopes = scopes
        self.roles = roles
        self.token_type = token_type

    @property
    def subject(self) -> str | None:
        """The ``sub`` claim, None when absent."""
        return self._raw.get("sub")

    @property
    def issuer(self) -> str:
        """The ``iss`` claim."""
        return self._raw["iss"]  # type: ignore[no-any-return]

    @property
    def expires_at(self) -> float:
        """The ``exp`` claim, seconds since the epoch."""
        return self._raw["exp"]  # type: ignore[no-any-return]

    @property
    def client_id(self) -> str | None:
        """``client_id`` (RFC 9068), else ``azp`` (OpenID Connect), when it is a string."""
        client_id = self._raw.get("client_id", self._raw.get("azp"))
        return client_id if isinstance(client_id, str) else None

    @property
    def raw(self) -> Mapping[str, Any]:
        """All claims as a read-only mapping."""
        return MappingProxyType(self._raw)

    @property
    def audience(self) -> tuple[str, ...]:
        """The ``aud`` claim as a tuple (empty when absent)."""
        aud = self._raw.get("aud")
        if aud is None:
            return ()
        return (aud,) if isinstance(aud, str) else tuple(aud)

    def get(self, name: str, default: Any = None, /) -> Any:
        """The claim ``name``, or ``default`` when absent."""
        return self._raw.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __getitem__(self, name: str) -> Any:
        return self._raw[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"Claims(subject={self.subject!r}, issuer={self.issuer!r}, scopes={sorted(self.scopes)})"


ClaimCheck = Callable[[Mapping[str, Any], "str | None"], None]
"""An extra rule: called with the verified claims and the header ``typ``; raises TokenError."""


def numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """The NumericDate claim ``name``, None when absent; raise when it is not a sane JSON number."""
    value = claims.get(name)
    if value is None:
        if name in claims:
            raise TokenError(Reason.INVALID_CLAIM, claim=name)
        return None
    kind = type(value)
    if (kind is not int and kind is not float) or not (0 <= value <= _MAX_NUMERIC_DATE):
        raise TokenError(Reason.INVALID_CLAIM, claim=name)
    if kind is float and not math.isfinite(value):
        raise TokenError(Reason.INVALID_CLAIM, claim=name)
    return value  # type: ignore[no-any-return]


def _all_str(items: list[Any]) -> bool:
    try:
        "".join(items)  # the quickest check: join refuses anything but str
    except TypeError:
        return False
    return True


def _scope_text_ok(text: str) -> bool:
    """RFC 6749 §3.3 scope-token characters (%x21 / %x23-5B / %x5D-7E), and spaces between."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _scope_set(value: str, name: str) -> frozenset[str]:
    scopes = _scope_sets.get(value)
    if scopes is not None:
        return scopes
    items = value.split(" ")
    scopes = frozenset(items)
    if not _scope_text_ok(value) or "" in scopes or len(scopes) != len(items):
        raise TokenError(Reason.INVALID_CLAIM, claim=name)
    if len(_scope_sets) >= _SCOPE_CACHE_SIZE:
        _scope_sets.clear()
    _scope_sets[value] = scopes
    return scopes


def parse_scope(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (RFC 6749 §3.3 string) or ``scp`` (string or list); strict syntax."""
    if "scope" in claims:
        name, value = "scope", claims["scope"]
    elif "scp" in claims:
        name, value = "scp", claims["scp"]
    else:
        return _EMPTY
    if type(value) is str:
        return _scope_set(value, name) if value else _EMPTY
    if name == "scp" and type(value) is list:
        if not _all_str(value) or not all(v and " " not in v and _scope_text_ok(v) for v in value):
            raise TokenError(Reason.INVALID_CLAIM, claim=name)
        scopes = frozenset(value)
        if len(scopes) != len(value):
            raise TokenError(Reason.INVALID_CLAIM, claim=name)
        return scopes
    raise TokenError(Reason.INVALID_CLAIM, claim=name)


def _roles(claims: Mapping[str, Any], claim: str | None) -> frozenset[str]:
    if claim is None or claim not in claims:
        return _EMPTY
    value = claims[claim]
    if type(value) is str:
        return frozenset((value,))
    if type(value) is list and _all_str(value):
        return frozenset(value)
    raise TokenError(Reason.INVALID_CLAIM, claim=claim)


def _verified(claims: dict[str, Any], typ: str | None, roles_claim: str | None) -> Claims:
    """Claims with scopes and roles parsed; the common shapes (a known scope string, a list of
    role names) without further calls."""
    scope = claims.get("scope")
    scopes = _scope_sets.get(scope) if type(scope) is str else None
    if scopes is None:
        scopes = parse_scope(claims)
    roles = claims.get(roles_claim) if roles_claim is not None else None
    roles = frozenset(roles) if type(roles) is list and _all_str(roles) else _roles(claims, roles_claim)
    return Claims(claims, scopes, roles, typ)  # positional: a keyword call costs twice as much


def _check_audience(audiences: frozenset[str], aud: Any) -> None:
    if aud is None:
        raise TokenError(Reason.MISSING_CLAIM, claim="aud")
    if type(aud) is str:
        if aud not in audiences:
            raise TokenError(Reason.WRONG_AUDIENCE)
        return
    if type(aud) is not list or not aud or not _all_str(aud):
        raise TokenError(Reason.INVALID_CLAIM, claim="aud")
    if audiences.isdisjoint(aud):
        raise TokenError(Reason.WRONG_AUDIENCE)


def _media_type(typ: str) -> str:
    lowered = typ.lower()
    return lowered[12:] if lowered.startswith("application/") else lowered


class ClaimsPolicy:
    """What a verified token's claims must satisfy. Build it once; call :meth:`apply` per token."""

    __slots__ = (
        "_audience_set",
        "_media_type",
        "audiences",
        "checks",
        "issuer",
        "leeway",
        "max_age",
        "required",
        "roles_claim",
        "token_type",
    )

    def __init__(
        self,
        *,
        issuer: str,
        audiences: frozenset[str] | AnyValue,
        token_type: str | AnyValue,
        required: frozenset[str],
        leeway: int = 60,
        max_age: int | None = None,
        roles_claim: str | None = "roles",
        checks: Sequence[ClaimCheck] = (),
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer must be a non-empty string")
        if isinstance(audiences, frozenset) and (
            not audiences or not all(isinstance(a, str) and a for a in audiences)
        ):
            raise ConfigurationError("audience must be a non-empty string, a list of them, or ANY")
        if type(leeway) is not int or not 0 <= leeway <= MAX_LEEWAY_SECONDS:
            raise ConfigurationError(
                f"leeway must be a whole number of seconds from 0 to {MAX_LEEWAY_SECONDS}"
            )
        if max_age is not None and (type(max_age) is not int or max_age <= 0):
            raise ConfigurationError("max_age must be a positive number of seconds")
        if not isinstance(token_type, _Any) and (not isinstance(token_type, str) or not token_type):
            raise ConfigurationError("token_type must be a media type such as 'at+jwt', or ANY")
        self.issuer = issuer
        self.audiences = audiences
        self.token_type = token_type
        self.required = required
        self.leeway = leeway
        self.max_age = max_age
        self.roles_claim = roles_claim
        self.checks = tuple(checks)
        self._audience_set = audiences if isinstance(audiences, frozenset) else None
        self._media_type = None if isinstance(token_type, _Any) else _media_type(token_type)

    def apply(self, claims: dict[str, Any], typ: str | None, now: float) -> Claims:
        """Check ``claims`` (from a verified token with header ``typ``) at time ``now``."""
        # Each check takes the common case first (a typ spelled as configured, NumericDates as
        # in-range integers, a single string aud) and hands anything else to the full rule.
        expected_type = self._media_type
        if (
            expected_type is not None
            and typ != self.token_type
            and (typ is None or _media_type(typ) != expected_type)
        ):
            raise TokenError(Reason.WRONG_TYPE)
        iss = claims.get("iss")
        if iss != self.issuer:
            if iss is None:
                raise TokenError(Reason.MISSING_CLAIM, claim="iss")
            raise TokenError(Reason.WRONG_ISSUER)
        exp: Any = claims.get("exp")
        if type(exp) is not int or not 0 <= exp <= _MAX_NUMERIC_DATE:
            exp = numeric_date(claims, "exp")
            if exp is None:
                raise TokenError(Reason.MISSING_CLAIM, claim="exp")
        leeway = self.leeway
        if exp <= now - leeway:
            raise TokenError(Reason.EXPIRED)
        nbf: Any = claims.get("nbf", _ABSENT)
        if nbf is not _ABSENT:
            if type(nbf) is not int or not 0 <= nbf <= _MAX_NUMERIC_DATE:
                nbf = numeric_date(claims, "nbf")
            if nbf > now + leeway:
                raise TokenError(Reason.NOT_YET_VALID)
        iat: Any = claims.get("iat", _ABSENT)
        if iat is not _ABSENT:
            if type(iat) is not int or not 0 <= iat <= _MAX_NUMERIC_DATE:
                iat = numeric_date(claims, "iat")
            if iat > now + leeway:
                raise TokenError(Reason.ISSUED_IN_FUTURE)
            if self.max_age is not None and iat < now - self.max_age - leeway:
                raise TokenError(Reason.TOO_OLD)
        audiences = self._audience_set
        if audiences is not None:
            aud = claims.get("aud")
            if type(aud) is not str:
                _check_audience(audiences, aud)
            elif aud not in audiences:
                raise TokenError(Reason.WRONG_AUDIENCE)
        if not claims.keys() >= self.required:
            for name in self.required:
                if name not in claims:
                    raise TokenError(Reason.MISSING_CLAIM, claim=name)
        sub = claims.get("sub")
        if sub is not None and (type(sub) is not str or not sub):
            raise TokenError(Reason.INVALID_CLAIM, claim="sub")
        for check in self.checks:
            check(claims, typ)
        return _verified(claims, typ, self.roles_claim)
