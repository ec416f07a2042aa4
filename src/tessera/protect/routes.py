"""Route rules, declared once: which scopes and roles each method and path needs.

The same rules drive the Lambda authorizers, the exports (API Gateway JWT authorizer, Azure
API Management) and ``tessera gateway``. A ROUTES_FILE is JSON or TOML (see docs/protect.md)::

    issuer = "https://id.example.com"
    audience = ["orders-api"]

    [[routes]]
    method = "GET"
    path = "/items/{id}"
    scopes = ["items:read"]
    handler = "app.items:get_item"   # used by tessera gateway only

Paths are API Gateway resource patterns: literal segments, ``{name}`` for one segment and a
final ``{name+}`` for one or more. When several rules match, the most specific wins: literal
before ``{name}`` before ``{name+}``, segment by segment, then a named method before ``ANY``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ConfigurationError

__all__ = ["METHODS", "Route", "RouteRules", "load_routes", "parse_routes"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY"})
_LITERAL = re.compile(r"[A-Za-z0-9._~!$&'()+,;=:@%-]+")
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_GREEDY = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\+\}")
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z:/]+")
_ROUTE_KEYS = frozenset({"method", "path", "scopes", "roles", "handler"})
_TOP_KEYS = frozenset({"issuer", "audience", "routes", "gateway"})

_LITERAL_RANK, _PARAMETER_RANK, _GREEDY_RANK = 0, 1, 2


def _segment_rank(segment: str, last: bool) -> int:
    if _GREEDY.fullmatch(segment):
        if not last:
            raise ConfigurationError("a greedy {name+} segment must be the last one")
        return _GREEDY_RANK
    if _PARAMETER.fullmatch(segment):
        return _PARAMETER_RANK
    if _LITERAL.fullmatch(segment) is None:
        raise ConfigurationError(f"path segment {segment!r} is not a literal, {{name}} or {{name+}}")
    return _LITERAL_RANK


def _names(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and _NAME.fullmatch(v) for v in value
    ):
        raise ConfigurationError(f"{what} must be a list of names without spaces")
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True, slots=True)
class Route:
    """One rule: ``method`` (or ``ANY``) and ``path`` pattern need all ``scopes`` and one of ``roles``."""

    method: str
    path: str
    scopes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    handler: str | None = None
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)
    ranks: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        method = self.method.upper() if isinstance(self.method, str) else ""
        if method not in METHODS:
            raise ConfigurationError(f"method must be one of {sorted(METHODS)}")
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ConfigurationError("a route path must start with '/'")
        segments = tuple(self.path.split("/")[1:]) if self.path != "/" else ()
        if any(not s for s in segments):
            raise ConfigurationError(f"route path {self.path!r} has an empty segment")
        ranks = tuple(_segment_rank(s, i == len(segments) - 1) for i, s in enumerate(segments))
        if self.handler is not None and not isinstance(self.handler, str):
            raise ConfigurationError("handler must be a 'module:function' string")
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "scopes", _names(self.scopes, "scopes"))
        object.__setattr__(self, "roles", _names(self.roles, "roles"))
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "ranks", ranks)

    @property
    def route_key(self) -> str:
        """The API Gateway HTTP API route key, e.g. ``GET /items/{id}``."""
        return f"{self.method} {self.path}"

    def matches(self, method: str, path: str) -> bool:
        """True when this rule covers ``method`` and the concrete ``path``."""
        if self.method != "ANY" and self.method != method.upper():
            return False
        parts = path.split("/")[1:] if path not in ("", "/") else []
        if self.ranks and self.ranks[-1] == _GREEDY_RANK:
            head = len(self.segments) - 1
            if len(parts) <= head or not all(parts[head:]):
                return False
        elif len(parts) != len(self.segments):
            return False
        for segment, rank, part in zip(self.segments, self.ranks, parts, strict=False):
            if rank == _LITERAL_RANK and segment != part:
                return False
            if rank == _PARAMETER_RANK and not part:
                return False
        return True

    def sort_key(self) -> tuple[tuple[int, ...], int]:
        """Most specific first: per-segment ranks, then a named method before ``ANY``."""
        return (self.ranks, 1 if self.method == "ANY" else 0)


@dataclass(frozen=True, slots=True)
class RouteRules:
    """Every route of one API with its requirements, and the issuer and audience it trusts."""

    routes: tuple[Route, ...]
    issuer: str | None = None
    audience: tuple[str, ...] = ()
    gateway: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        seen = set()
        for route in self.routes:
            key = (
                route.method,
                route.ranks,
                tuple(s if r == 0 else "" for s, r in zip(route.segments, route.ranks, strict=True)),
            )
            if key in seen:
                raise ConfigurationError(f"route {route.route_key} is declared twice")
            seen.add(key)
        ordered = tuple(sorted(self.routes, key=Route.sort_key))
        object.__setattr__(self, "routes", ordered)

    def match(self, method: str, path: str) -> Route | None:
        """The most specific rule for ``method`` and ``path``, or None (deny)."""
        return next((r for r in self.routes if r.matches(method, path)), None)

    def allowed(self, scopes: Iterable[str], roles: Iterable[str]) -> tuple[Route, ...]:
        """The routes a caller with ``scopes`` and ``roles`` may call."""
        have_scopes, have_roles = frozenset(scopes), frozenset(roles)
        return tuple(
            r
            for r in self.routes
            if have_scopes.issuperset(r.scopes) and (not r.roles or not have_roles.isdisjoint(r.roles))
        )


def parse_routes(document: Mapping[str, Any]) -> RouteRules:
    """Route rules from a decoded ROUTES_FILE document; raise ConfigurationError when invalid."""
    if not isinstance(document, Mapping):
        raise ConfigurationError("a routes document is an object with a 'routes' list")
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise ConfigurationError(f"unknown top-level keys in routes: {sorted(unknown)}")
    issuer = document.get("issuer")
    if issuer is not None and (not isinstance(issuer, str) or not issuer):
        raise ConfigurationError("issuer must be a non-empty string")
    audience = document.get("audience", [])
    audience = [audience] if isinstance(audience, str) else audience
    if not isinstance(audience, list) or not all(isinstance(a, str) and a for a in audience):
        raise ConfigurationError("audience must be a string or a list of strings")
    gateway = document.get("gateway", {})
    if not isinstance(gateway, Mapping):
        raise ConfigurationError("gateway must be a table")
    items = document.get("routes")
    if not isinstance(items, list) or not items:
        raise ConfigurationError("routes must be a non-empty list")
    routes = []
    for item in items:
        if not isinstance(item, Mapping) or set(item) - _ROUTE_KEYS or not {"method", "path"} <= set(item):
            raise ConfigurationError(f"each route has method, path and optionally {sorted(_ROUTE_KEYS)}")
        routes.append(
            Route(
                method=item["method"],
                path=item["path"],
                scopes=item.get("scopes", ()),
                roles=item.get("roles", ()),
                handler=item.get("handler"),
            )
        )
    return RouteRules(tuple(routes), issuer, tuple(audience), MappingProxyType(dict(gateway)))


def read_routes_document(path: str | Path) -> dict[str, Any]:
    """The parsed ROUTES_FILE: ``.toml`` (any case) as TOML, anything else as JSON."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the routes file {source}: {type(exc).__name__}") from None
    try:
        document: Any = tomllib.loads(text) if source.suffix.lower() == ".toml" else json.loads(text)
    except ValueError as exc:  # TOMLDecodeError and JSONDecodeError
        raise ConfigurationError(f"the routes file {source} is not valid: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigurationError("the routes file must hold a table/object")
    return document


def load_routes(path: str | Path) -> RouteRules:
    """Read a ROUTES_FILE: ``.toml`` as TOML, anything else as JSON; or a ``tessera.toml``.

    From a ``tessera.toml`` the rules come with its issuer and its API's audience (see
    :meth:`tessera.config.TesseraConfig.audience`), environment overrides applied.
    """
    document = read_routes_document(path)
    from ..config.locations import is_tessera_config

    if is_tessera_config(path, document):
        from ..config.protect import rules_from_config

        return rules_from_config(path)
    return parse_routes(document)
