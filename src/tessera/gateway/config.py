"""The gateway's view of a routes file: which Lambda handler serves which route, and how.

The routes file (TOML or JSON; its ``issuer``, ``audience`` and ``[[routes]]`` rules are
described in docs/protect.md) already names a ``handler`` per route. The gateway reads those,
plus an optional ``[gateway]`` table that ``tessera.protect`` leaves alone::

    [[routes]]
    method = "GET"
    path = "/items/{id}"
    scopes = ["items:read"]
    handler = "app:get_item"            # "module:function", imported from the file's folder

    [gateway]
    payload_version = "1.0"             # default for every route: "1.0" REST API, "2.0" HTTP API
    authorizer = "bearer"               # default authorizer for every route (optional)
    stage = "dev"                       # optional; REST default "dev", HTTP API default "$default"

    [gateway.authorizers.bearer]
    handler = "authorizer:handler"
    type = "TOKEN"                      # TOKEN or REQUEST (REST API), HTTP (HTTP API, payload 2.0)
    identity_sources = ["method.request.header.Authorization"]
    ttl_seconds = 300                   # API Gateway's result cache; 0 turns it off
    simple_responses = false            # HTTP only: {"isAuthorized": ...}

    [gateway.responses.UNAUTHORIZED]    # REST API gateway responses (see gateway_responses)
    headers = { "WWW-Authenticate" = "'Bearer realm=\"orders\"'" }

    [[gateway.routes]]                  # more routes, or overrides of the ones above
    route = "GET /health"               # "METHOD /path" or "$default"
    handler = "app:health"
    payload_version = "2.0"
    authorizer = "none"                 # "none": no authorizer on this route
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..protect.routes import read_routes_document
from .gateway_responses import GatewayResponseSettings, parse_gateway_responses
from .routing import RouteKey

__all__ = ["ApiSettings", "AuthorizerSpec", "GatewayConfig", "GatewayRoute", "load_gateway_config"]

AUTHORIZER_TYPES = ("TOKEN", "REQUEST", "HTTP")
_SECTION_KEYS = frozenset(
    {
        "payload_version",
        "authorizer",
        "stage",
        "api_id",
        "region",
        "account_id",
        "binary_media_types",
        "authorizers",
        "routes",
        "responses",
    }
)
_AUTHORIZER_KEYS = frozenset({"handler", "type", "identity_sources", "ttl_seconds", "simple_responses"})
_ROUTE_KEYS = frozenset({"route", "handler", "payload_version", "authorizer"})


def _known_keys(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)} (typos must not pass silently)")


PAYLOAD_VERSIONS = ("1.0", "2.0")
MAX_TTL_SECONDS = 3600


@dataclass(frozen=True)
class ApiSettings:
    """The identity of the emulated API: it appears in every event and ARN."""

    api_id: str = "local"
    stage: str | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"
    binary_media_types: tuple[str, ...] = ()

    def stage_for(self, payload_version: str) -> str:
        """The stage name events carry: the configured one, else ``dev`` (REST) or ``$default``."""
        if self.stage is not None:
            return self.stage
        return "dev" if payload_version == "1.0" else "$default"

    def arn_prefix(self, payload_version: str) -> str:
        """``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}``."""
        stage = self.stage_for(payload_version)
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{stage}"


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda authorizer as API Gateway is configured with it."""

    name: str
    handler: str
    type: str
    identity_sources: tuple[str, ...]
    ttl_seconds: int
    simple_responses: bool = False


@dataclass(frozen=True)
class GatewayRoute:
    """One route: its key, the handler serving it, the event format, and the authorizer."""

    key: RouteKey
    handler: str
    payload_version: str
    authorizer: AuthorizerSpec | None = None


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the gateway serves; ``base_dir`` is where handler modules are imported from."""

    routes: tuple[GatewayRoute, ...]
    api: ApiSettings = ApiSettings()
    base_dir: Path = field(default_factory=Path.cwd)
    responses: Mapping[str, GatewayResponseSettings] = field(default_factory=dict)

    def match(self, method: str, path: str) -> tuple[GatewayRoute, dict[str, str]] | None:
        """The most specific route serving ``method path`` and its path parameters, or None."""
        for route in sorted(self.routes, key=lambda r: r.key.rank):
            params = route.key.match(method, path)
            if params is not None:
                return route, params
        return None


def _handler_path(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
        raise ConfigurationError(f"{where}: handler must be 'module:function'")
    return value


def _authorizer(name: str, raw: Any) -> AuthorizerSpec:
    where = f"gateway.authorizers.{name}"
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{where} must be a table")
    _known_keys(raw, _AUTHORIZER_KEYS, where)
    kind = str(raw.get("type", "TOKEN")).upper()
    if kind not in AUTHORIZER_TYPES:
        raise ConfigurationError(f"{where}: type must be one of {', '.join(AUTHORIZER_TYPES)}")
    default_source = (
        "method.request.header.Authorization" if kind != "HTTP" else "$request.header.Authorization"
    )
    sources = raw.get("identity_sources", [default_source])
    if isinstance(sources, str):
        sources = [s.strip() for s in sources.split(",")]
    if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
        raise ConfigurationError(f"{where}: identity_sources must be a list of strings")
    if kind == "TOKEN" and (len(sources) != 1 or not sources[0].startswith("method.request.header.")):
        raise ConfigurationError(f"{where}: a TOKEN authorizer has exactly one header identity source")
    ttl = raw.get("ttl_seconds", 300 if kind != "HTTP" else 0)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL_SECONDS:
        raise ConfigurationError(f"{where}: ttl_seconds must be an integer from 0 to {MAX_TTL_SECONDS}")
    simple = raw.get("simple_responses", False)
    if not isinstance(simple, bool) or (simple and kind != "HTTP"):
        raise ConfigurationError(f"{where}: simple_responses is a boolean, for HTTP authorizers only")
    return AuthorizerSpec(name, _handler_path(raw.get("handler"), where), kind, tuple(sources), ttl, simple)


def _route(
    where: str,
    raw: Mapping[str, Any],
    authorizers: Mapping[str, AuthorizerSpec],
    defaults: Mapping[str, Any],
) -> GatewayRoute:
    _known_keys(raw, _ROUTE_KEYS, where)
    version = str(raw.get("payload_version", defaults.get("payload_version", "1.0")))
    if version not in PAYLOAD_VERSIONS:
        raise ConfigurationError(f"{where}: payload_version must be '1.0' or '2.0'")
    name = raw.get("authorizer", defaults.get("authorizer"))
    authorizer = None
    if name is not None and name != "none":
        authorizer = authorizers.get(str(name))
        if authorizer is None:
            raise ConfigurationError(f"{where}: unknown authorizer {name!r}")
        if (authorizer.type == "HTTP") != (version == "2.0"):
            raise ConfigurationError(
                f"{where}: TOKEN/REQUEST authorizers serve payload 1.0 routes, HTTP ones payload 2.0"
            )
    key = raw.get("route")
    if not isinstance(key, str):
        raise ConfigurationError(f"{where}: route must be 'METHOD /path' or '$default'")
    return GatewayRoute(RouteKey.parse(key), _handler_path(raw.get("handler"), where), version, authorizer)


def _rule_routes(document: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rules = document.get("routes", [])
    if not isinstance(rules, list):
        raise ConfigurationError("routes must be a list")
    found = []
    for index, rule in enumerate(rules):
        if isinstance(rule, Mapping) and rule.get("handler") is not None:
            method, path = rule.get("method"), rule.get("path")
            if not isinstance(method, str) or not isinstance(path, str):
                raise ConfigurationError(f"routes[{index}]: method and path must be strings")
            found.append((f"routes[{index}]", {"route": f"{method} {path}", "handler": rule["handler"]}))
    return found


def gateway_config_from_mapping(document: Mapping[str, Any], base_dir: Path) -> GatewayConfig:
    """Build the configuration from a parsed routes document.

    Every ``[[routes]]`` rule with a ``handler`` is served, with the ``[gateway]`` defaults;
    ``[[gateway.routes]]`` adds routes or overrides one with the same route key. The rules
    themselves are checked by :func:`tessera.protect.routes.parse_routes` (a typo in a rule is
    an error here too, never a silently dropped requirement).
    """
    if "routes" in document:
        from ..protect.routes import parse_routes

        parse_routes(document)
    section = document.get("gateway", {})
    if not isinstance(section, Mapping):
        raise ConfigurationError("gateway must be a table")
    _known_keys(section, _SECTION_KEYS, "gateway")
    raw_authorizers = section.get("authorizers", {})
    if not isinstance(raw_authorizers, Mapping):
        raise ConfigurationError("gateway.authorizers must be a table")
    authorizers = {name: _authorizer(name, raw) for name, raw in raw_authorizers.items()}
    extra = section.get("routes", [])
    if not isinstance(extra, list) or not all(isinstance(r, Mapping) for r in extra):
        raise ConfigurationError("gateway.routes must be a list of tables")
    entries = [*_rule_routes(document), *((f"gateway.routes[{i}]", r) for i, r in enumerate(extra))]
    by_key: dict[str, GatewayRoute] = {}
    for where, raw in entries:
        route = _route(where, raw, authorizers, section)
        by_key[route.key.text] = route
    if not by_key:
        raise ConfigurationError("the routes file names no handler to serve (routes[].handler)")
    binary = section.get("binary_media_types", [])
    if not isinstance(binary, list) or not all(isinstance(t, str) for t in binary):
        raise ConfigurationError("gateway.binary_media_types must be a list of media types")
    api = ApiSettings(
        api_id=str(section.get("api_id", "local")),
        stage=str(section["stage"]) if "stage" in section else None,
        region=str(section.get("region", "us-east-1")),
        account_id=str(section.get("account_id", "123456789012")),
        binary_media_types=tuple(t.lower() for t in binary),
    )
    responses = parse_gateway_responses(section.get("responses", {}))
    return GatewayConfig(tuple(by_key.values()), api, base_dir, responses)


def load_gateway_config(path: str | Path) -> GatewayConfig:
    """Read a routes file (or a ``tessera.toml``) for the gateway; handlers are imported from its folder."""
    from ..config.locations import is_tessera_config

    file = Path(path)
    document = read_routes_document(file)
    if is_tessera_config(file, document):
        from ..config.protect import routes_document

        document = routes_document(file)
    return gateway_config_from_mapping(document, file.resolve().parent)
