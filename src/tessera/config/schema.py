"""``tessera.toml``: its sections, their keys and types, and the checks that need only the file.

Every section is declared once, in :data:`SECTIONS`; a key that no section declares is an
error (typos must not pass silently). ``[[upstreams]]`` entries are checked by the provider's
federation module (:func:`tessera.issue.signin.federation.upstreams.upstream_from_mapping`), imported
only when a file has them.
``[[routes]]`` and ``[gateway]`` keep the shape they have in a routes file: the rules are
checked by :mod:`tessera.protect.routes`, the ``[gateway]`` table by the gateway when it reads it.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..protect.routes import Route, RouteRules
from .diagnostics import Diagnostic, key_name
from .lines import KeyLines, key_lines
from .model import ApiConfig, ClientConfig, ProviderConfig, TesseraConfig, UserConfig

__all__ = ["CLIENT_TYPES", "GRANTS", "OPENID_SCOPES", "SECTIONS", "issuer_problem", "parse_config"]

OPENID_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
CLIENT_TYPES = ("confidential", "public")
GRANTS = ("authorization_code", "refresh_token", "client_credentials")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z:/]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Kind:
    """A value's expected type: its name in messages and the test it must pass."""

    name: str
    accepts: Callable[[Any], bool]


STRING = Kind("a string", lambda v: isinstance(v, str) and v != "")
BOOLEAN = Kind("true or false", lambda v: isinstance(v, bool))
NAMES = Kind(
    "a list of names without spaces",
    lambda v: isinstance(v, list) and all(isinstance(x, str) and _NAME.fullmatch(x) for x in v),
)
STRINGS = Kind(
    "a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v)
)


@dataclass(frozen=True)
class Section:
    """A top-level section: a table (``[provider]``) or an array of tables (``[[apis]]``).

    ``keys`` maps each allowed key to its kind; ``required`` names the keys that must be
    there. ``keys`` None leaves the contents to their own parser (``[gateway]``).
    """

    array: bool
    keys: Mapping[str, Kind] | None
    required: frozenset[str] = frozenset()


SECTIONS: Mapping[str, Section] = {
    "provider": Section(
        False, {"issuer": STRING, "name": STRING, "signup": BOOLEAN, "logo": STRING, "templates": STRING}
    ),
    "apis": Section(True, {"audience": STRING, "scopes": NAMES}, frozenset({"audience", "scopes"})),
    "clients": Section(
        True,
        {
            "id": STRING,
            "name": STRING,
            "type": STRING,
            "grants": NAMES,
            "scopes": NAMES,
            "secret_env": STRING,
            "redirect_uris": STRINGS,
        },
        frozenset({"id", "type"}),
    ),
    "users": Section(True, {"email": STRING, "name": STRING, "roles": NAMES}, frozenset({"email"})),
    "routes": Section(
        True,
        {"method": STRING, "path": STRING, "scopes": NAMES, "roles": NAMES, "handler": STRING},
        frozenset({"method", "path"}),
    ),
    "gateway": Section(False, None),
    "store": Section(False, {"url": STRING, "cache": STRING}),
    "upstreams": Section(True, None),
}


class _Collector:
    """Gathers diagnostics for one file, placing each on the line of its key."""

    def __init__(self, file: str, lines: KeyLines) -> None:
        self.file = file
        self.lines = lines
        self.found: list[Diagnostic] = []

    def add(self, path: Sequence[str | int], message: str) -> None:
        self.found.append(Diagnostic(self.file, self.lines.line(path), key_name(path), message))


def _table_entries(name: str, section: Section, value: Any, out: _Collector) -> list[dict[str, Any]]:
    """The section's tables, each with only known, well-typed keys; problems go to ``out``."""
    tables = value if section.array else [value]
    if section.array and not isinstance(value, list):
        out.add((name,), f"must be an array of tables ([[{name}]])")
        return []
    entries: list[dict[str, Any]] = []
    for index, table in enumerate(tables):
        where: tuple[str | int, ...] = (name, index) if section.array else (name,)
        if not isinstance(table, dict):
            out.add(where, "must be a table")
            continue
        if section.keys is None:
            entries.append(table)
            continue
        good: dict[str, Any] = {}
        for key, item in table.items():
            kind = section.keys.get(key)
            if kind is None:
                out.add((*where, key), f"unknown key (known: {', '.join(sorted(section.keys))})")
            elif not kind.accepts(item):
                out.add((*where, key), f"must be {kind.name}")
            else:
                good[key] = item
        for key in sorted(section.required - set(table)):
            out.add(where, f"missing required key {key!r}")
        entries.append(good if section.required <= set(good) else {})
    return entries


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redirect_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        return "a redirect URI has no fragment"
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None
    return f"{uri!r} is not https (plain http is allowed on loopback only)"


def issuer_problem(issuer: str) -> str | None:
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        return "must be an https URL with no query or fragment"
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return "a plain-http issuer is allowed on loopback only"
    if issuer.endswith("/"):
        return "must not end with '/'"
    return None


def _provider(entry: dict[str, Any], out: _Collector) -> ProviderConfig:
    issuer = entry.get("issuer")
    if issuer is not None:
        problem = issuer_problem(issuer)
        if problem is not None:
            out.add(("provider", "issuer"), problem)
    return ProviderConfig(
        issuer=issuer,
        name=entry.get("name"),
        signup=entry.get("signup"),
        logo=entry.get("logo"),
        templates=entry.get("templates"),
    )


def _apis(entries: list[dict[str, Any]], out: _Collector) -> tuple[ApiConfig, ...]:
    apis: list[ApiConfig] = []
    owner: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not entry:
            continue
        audience, scopes = entry["audience"], tuple(dict.fromkeys(entry["scopes"]))
        if any(api.audience == audience for api in apis):
            out.add(("apis", index, "audience"), f"{audience!r} is declared twice")
        for scope in scopes:
            if scope in OPENID_SCOPES:
                out.add(("apis", index, "scopes"), f"{scope!r} is an OpenID scope, not an API's")
            elif scope in owner:
                out.add(("apis", index, "scopes"), f"{scope!r} is already a scope of {owner[scope]!r}")
            else:
                owner[scope] = audience
        apis.append(ApiConfig(audience, scopes))
    return tuple(apis)


def _client(index: int, entry: dict[str, Any], known: frozenset[str], out: _Collector) -> ClientConfig | None:
    where = ("clients", index)
    if entry["id"][:4].lower() == "usr_" or not all(" " <= c <= "~" for c in entry["id"]):
        out.add((*where, "id"), "must be visible ASCII and not start with 'usr_' (user subjects do)")
    kind = entry["type"]
    if kind not in CLIENT_TYPES:
        out.add((*where, "type"), f"must be {' or '.join(map(repr, CLIENT_TYPES))}")
        return None
    uris = tuple(entry.get("redirect_uris", ()))
    default_grants = ["authorization_code", "refresh_token"] if uris else ["client_credentials"]
    grants = tuple(dict.fromkeys(entry.get("grants", default_grants)))
    for grant in grants:
        if grant not in GRANTS:
            out.add((*where, "grants"), f"{grant!r} is not one of {', '.join(GRANTS)}")
    if kind == "public" and "client_credentials" in grants:
        out.add((*where, "grants"), "a public client cannot use client_credentials")
    if "authorization_code" in grants and not uris:
        out.add((*where, "redirect_uris"), "the authorization_code grant needs redirect_uris")
    for uri in uris:
        problem = _redirect_problem(uri)
        if problem is not None:
            out.add((*where, "redirect_uris"), problem)
        elif "*" in uri and kind != "public":
            out.add((*where, "redirect_uris"), "only public clients may use a loopback port wildcard")
    default_scopes = sorted(OPENID_SCOPES) if "authorization_code" in grants else []
    scopes = tuple(dict.fromkeys(entry.get("scopes", default_scopes)))
    for scope in scopes:
        if scope not in known:
            out.add((*where, "scopes"), f"{scope!r} is not a scope of any [[apis]] (nor an OpenID scope)")
    secret_env = entry.get("secret_env")
    if kind == "confidential" and secret_env is None:
        out.add(where, "a confidential client needs secret_env (the variable holding its secret)")
    if kind == "public" and secret_env is not None:
        out.add((*where, "secret_env"), "a public client has no secret")
    if secret_env is not None and not _ENV_NAME.fullmatch(secret_env):
        out.add((*where, "secret_env"), "must be an environment variable name")
    return ClientConfig(entry["id"], kind, grants, scopes, uris, secret_env, entry.get("name", ""))


def _clients(
    entries: list[dict[str, Any]], apis: Sequence[ApiConfig], out: _Collector
) -> tuple[ClientConfig, ...]:
    known = OPENID_SCOPES.union(*(api.scopes for api in apis))
    clients: list[ClientConfig] = []
    for index, entry in enumerate(entries):
        if not entry:
            continue
        if any(c.id == entry["id"] for c in clients):
            out.add(("clients", index, "id"), f"{entry['id']!r} is declared twice")
        client = _client(index, entry, known, out)
        if client is not None:
            clients.append(client)
    return tuple(clients)


def _users(entries: list[dict[str, Any]], out: _Collector) -> tuple[UserConfig, ...]:
    users: list[UserConfig] = []
    for index, entry in enumerate(entries):
        if not entry:
            continue
        email = entry["email"].strip()
        if "@" not in email or any(c.isspace() for c in email):
            out.add(("users", index, "email"), f"{email!r} is not an email address")
            continue
        if any(u.email.lower() == email.lower() for u in users):
            out.add(("users", index, "email"), f"{email!r} is declared twice")
        users.append(UserConfig(email, tuple(dict.fromkeys(entry.get("roles", ()))), entry.get("name", "")))
    return tuple(users)


def _routes(entries: list[dict[str, Any]], out: _Collector) -> RouteRules | None:
    routes: list[Route] = []
    for index, entry in enumerate(entries):
        if not entry:
            continue
        try:
            routes.append(
                Route(
                    method=entry["method"],
                    path=entry["path"],
                    scopes=entry.get("scopes", ()),
                    roles=entry.get("roles", ()),
                    handler=entry.get("handler"),
                )
            )
        except ConfigurationError as exc:
            out.add(("routes", index), str(exc))
    if not routes:
        return None
    try:
        return RouteRules(tuple(routes))
    except ConfigurationError as exc:
        out.add(("routes",), str(exc))
        return None


def parse_config(text: str, file: str | Path) -> tuple[TesseraConfig | None, list[Diagnostic]]:
    """Parse and check the text of a ``tessera.toml``; the config (None if unreadable) and its problems."""
    name = str(file)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        return None, [Diagnostic(name, int(line.group(1)) if line else 1, "(file)", f"not valid TOML: {exc}")]
    lines = key_lines(text)
    out = _Collector(name, lines)
    parsed: dict[str, list[dict[str, Any]]] = {}
    for key, value in document.items():
        section = SECTIONS.get(key)
        if section is None:
            out.add((key,), f"unknown section or key (known: {', '.join(SECTIONS)})")
            continue
        parsed[key] = _table_entries(key, section, value, out)
    provider = _provider((parsed.get("provider") or [{}])[0], out)
    apis = _apis(parsed.get("apis", []), out)
    config = TesseraConfig(
        path=Path(file),
        provider=provider,
        apis=apis,
        clients=_clients(parsed.get("clients", []), apis, out),
        users=_users(parsed.get("users", []), out),
        route_rules=_routes(parsed.get("routes", []), out),
        document=document,
        lines=lines,
    )
    _upstreams(parsed.get("upstreams", []), out)
    return config, out.found


def _upstreams(tables: Sequence[Mapping[str, Any]], out: _Collector) -> None:
    """Each ``[[upstreams]]`` table as the provider will read it, and ids declared once."""
    if not tables:
        return
    from ..issue.signin.federation.upstreams import upstream_from_mapping

    seen: set[str] = set()
    for index, table in enumerate(tables):
        try:
            upstream = upstream_from_mapping(table)
        except ConfigurationError as exc:
            out.add(("upstreams", index), str(exc))
            continue
        if upstream.id in seen:
            out.add(("upstreams", index, "id"), f"upstream {upstream.id!r} is declared twice")
        seen.add(upstream.id)
