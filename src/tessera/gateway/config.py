"""The gateway section of a routes file: which Lambda handler serves which route, and how.

The routes file (TOML or JSON, see docs/protect.md for its ``routes`` rules) gains a ``gateway``
table that ``tessera.protect`` ignores::

    [gateway]
    stage = "dev"                       # optional; REST default "dev", HTTP API default "$default"

    [gateway.authorizers.bearer]
    handler = "authorizer:handler"      # "module:function", imported from the file's folder
    type = "TOKEN"                      # TOKEN or REQUEST (REST API), HTTP (HTTP API, payload 2.0)
    identity_sources = ["method.request.header.Authorization"]
    ttl_seconds = 300                   # API Gateway's result cache; 0 turns it off
    simple_responses = false            # HTTP only: {"isAuthorized": ...}

    [[gateway.routes]]
    route = "GET /items/{id}"           # or "$default"
    handler = "app:handler"
    payload_version = "1.0"             # "1.0": REST API proxy event; "2.0": HTTP API event
    authorizer = "bearer"               # optional
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .routing import RouteKey

__all__ = ["ApiSettings", "AuthorizerSpec", "GatewayConfig", "GatewayRoute", "load_gateway_config"]

AUTHORIZER_TYPES = ("TOKEN", "REQUEST", "HTTP")
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


def _route(index: int, raw: Any, authorizers: Mapping[str, AuthorizerSpec]) -> GatewayRoute:
    where = f"gateway.routes[{index}]"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("route"), str):
        raise ConfigurationError(f"{where} must be a table with route = 'METHOD /path'")
    version = str(raw.get("payload_version", "2.0"))
    if version not in PAYLOAD_VERSIONS:
        raise ConfigurationError(f"{where}: payload_version must be '1.0' or '2.0'")
    authorizer = None
    if raw.get("authorizer") is not None:
        authorizer = authorizers.get(str(raw["authorizer"]))
        if authorizer is None:
            raise ConfigurationError(f"{where}: unknown authorizer {raw['authorizer']!r}")
        if (authorizer.type == "HTTP") != (version == "2.0"):
            raise ConfigurationError(
                f"{where}: TOKEN/REQUEST authorizers serve payload 1.0 routes, HTTP ones payload 2.0"
            )
    return GatewayRoute(
        RouteKey.parse(raw["route"]), _handler_path(raw.get("handler"), where), version, authorizer
    )


def gateway_config_from_mapping(document: Mapping[str, Any], base_dir: Path) -> GatewayConfig:
    """Build the configuration from a parsed routes document (its ``gateway`` table)."""
    section = document.get("gateway")
    if not isinstance(section, Mapping):
        raise ConfigurationError("the routes file has no [gateway] table")
    raw_authorizers = section.get("authorizers", {})
    if not isinstance(raw_authorizers, Mapping):
        raise ConfigurationError("gateway.authorizers must be a table")
    authorizers = {name: _authorizer(name, raw) for name, raw in raw_authorizers.items()}
    raw_routes = section.get("routes")
    if not isinstance(raw_routes, list) or not raw_routes:
        raise ConfigurationError("gateway.routes must be a non-empty list")
    routes = tuple(_route(i, raw, authorizers) for i, raw in enumerate(raw_routes))
    keys = [r.key.text for r in routes]
    if len(set(keys)) != len(keys):
        raise ConfigurationError("gateway.routes has the same route twice")
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
    return GatewayConfig(routes, api, base_dir)


def read_routes_document(path: str | Path) -> dict[str, Any]:
    """Parse a routes file: TOML (``.toml``) or JSON."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the routes file {file}: {exc.strerror}") from None
    try:
        document: Any = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"the routes file {file} is not valid: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigurationError("the routes file must hold a table/object")
    return document


def load_gateway_config(path: str | Path) -> GatewayConfig:
    """Read the ``gateway`` table of a routes file; handlers are imported from the file's folder."""
    file = Path(path)
    return gateway_config_from_mapping(read_routes_document(file), file.resolve().parent)
