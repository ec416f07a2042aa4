"""Upstream identity providers: the ``[[upstreams]]`` entries of ``tessera.toml`` and their presets.

An :class:`Upstream` is checked when it is built (:func:`upstream_from_mapping` raises
:class:`~tessera.errors.ConfigurationError` with the entry's id in the message); nothing is
fetched. A preset fills what it knows about one provider: endpoints that discovery does not
give (GitHub), the response mode (Apple's ``form_post``), and whether its ``email_verified``
may be trusted for linking to an existing account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tessera.errors import ConfigurationError
from tessera.verify.fetch import is_loopback_host

__all__ = [
    "AUTH_METHODS",
    "PRESETS",
    "Preset",
    "Upstream",
    "upstream_from_mapping",
    "upstreams_from_config",
]

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}", re.ASCII)
_ENV = re.compile(r"[A-Z_][A-Z0-9_]{0,127}", re.ASCII)
ENTRA_ISSUER_TEMPLATE = "https://login.microsoftonline.com/{tenant}/v2.0"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


@dataclass(frozen=True)
class Preset:
    """What Tessera knows about one provider."""

    name: str
    issuer: str | None = None
    kind: str = "oidc"  # "oidc" | "github"
    response_mode: str = "query"
    trusts_email_verified: bool = True
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    api_base: str | None = None
    default_scopes: tuple[str, ...] = ("openid", "email", "profile")
    auth_method: str = "client_secret_basic"


PRESETS: Mapping[str, Preset] = {
    "google": Preset("google", issuer="https://accounts.google.com", auth_method="client_secret_post"),
    "entra": Preset(
        "entra",
        issuer="https://login.microsoftonline.com/common/v2.0",
        trusts_email_verified=False,
        auth_method="client_secret_post",
    ),
    "auth0": Preset("auth0"),
    "cognito": Preset("cognito"),
    "okta": Preset("okta"),
    "apple": Preset(
        "apple",
        issuer="https://appleid.apple.com",
        response_mode="form_post",
        default_scopes=("openid", "email", "name"),
        auth_method="client_secret_post",
    ),
    "github": Preset(
        "github",
        issuer="https://github.com",
        kind="github",
        authorization_endpoint="https://github.com/login/oauth/authorize",
        token_endpoint="https://github.com/login/oauth/access_token",
        api_base="https://api.github.com",
        default_scopes=("read:user", "user:email"),
        auth_method="client_secret_post",
    ),
}


@dataclass(frozen=True)
class Upstream:
    """One upstream provider people may sign in with.

    ``token_endpoint_auth_method`` says how Tessera authenticates at the token endpoint:
    ``client_secret_basic`` or ``client_secret_post`` with the secret in the environment
    variable ``client_secret_env`` (for Apple, a secret made as an ES256 JWT from
    ``apple_team_id`` + ``apple_key_id`` + ``apple_private_key_env``), or ``private_key_jwt``
    (an RFC 7523 assertion signed with Tessera's current signing key, published at ``/jwks``).
    ``tenants`` is the Entra ``common`` allowlist of tenant ids whose ``iss`` is accepted.
    The upstream's own tokens are used once (to read the identity) and dropped, unless
    ``keep_tokens``: then they are stored sealed, for the server side only.
    """

    id: str
    name: str
    issuer: str
    client_id: str
    client_secret_env: str | None = None
    token_endpoint_auth_method: str = "client_secret_basic"
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    preset: str | None = None
    response_mode: str = "query"
    trusts_email_verified: bool = True
    kind: str = "oidc"
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    jwks_uri: str | None = None
    api_base: str | None = None
    tenants: tuple[str, ...] = ()
    apple_team_id: str | None = None
    apple_key_id: str | None = None
    apple_private_key_env: str | None = None
    allow_sign_up: bool = True
    keep_tokens: bool = False

    @property
    def private_key_jwt(self) -> bool:
        """True when Tessera authenticates with an assertion signed by its own key."""
        return self.token_endpoint_auth_method == "private_key_jwt"

    def callback_url(self, issuer: str) -> str:
        """The one redirect URI registered at this upstream: ``{issuer}/upstream/{id}/callback``."""
        return f"{issuer}/upstream/{self.id}/callback"

    @property
    def accepted_issuers(self) -> frozenset[str]:
        """The ``iss`` values an ID token may carry: the issuer, or each allowed Entra tenant's."""
        if self.preset == "entra" and self.tenants:
            return frozenset(ENTRA_ISSUER_TEMPLATE.format(tenant=t) for t in self.tenants)
        return frozenset({self.issuer})

    def __repr__(self) -> str:
        return f"Upstream(id={self.id!r}, issuer={self.issuer!r}, preset={self.preset!r})"


def _url(value: object, what: str, upstream_id: str) -> str:
    if value is None:
        raise ConfigurationError(f"upstream {upstream_id!r}: {what} is required")
    if not isinstance(value, str):
        raise ConfigurationError(f"upstream {upstream_id!r}: {what} must be a URL")
    parts = urlsplit(value)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname is not None and is_loopback_host(parts.hostname)
    )
    if not secure or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ConfigurationError(
            f"upstream {upstream_id!r}: {what} must be an https URL (http only on loopback), "
            "without query or fragment"
        )
    return value.rstrip("/") if what == "issuer" else value


def _text(entry: Mapping[str, Any], name: str, upstream_id: str, *, required: bool = False) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise ConfigurationError(f"upstream {upstream_id!r}: {name} is required")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 512:
        raise ConfigurationError(f"upstream {upstream_id!r}: {name} must be a non-empty string")
    return value


_KNOWN = frozenset(
    {
        "id",
        "name",
        "issuer",
        "client_id",
        "client_secret_env",
        "private_key_jwt",
        "scopes",
        "preset",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "api_base",
        "tenants",
        "apple_team_id",
        "apple_key_id",
        "apple_private_key_env",
        "allow_sign_up",
        "trust_email_verified",
        "token_endpoint_auth_method",
        "keep_tokens",
    }
)


def _auth_method(entry: Mapping[str, Any], upstream_id: str, preset: Preset) -> str:
    """``token_endpoint_auth_method``, or the preset's; ``private_key_jwt = true`` is its older spelling."""
    legacy = entry.get("private_key_jwt", False)
    if not isinstance(legacy, bool):
        raise ConfigurationError(f"upstream {upstream_id!r}: private_key_jwt must be true or false")
    method = entry.get("token_endpoint_auth_method")
    if method is not None and method not in AUTH_METHODS:
        raise ConfigurationError(
            f"upstream {upstream_id!r}: token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}"
        )
    if legacy and method not in (None, "private_key_jwt"):
        raise ConfigurationError(
            f"upstream {upstream_id!r}: private_key_jwt = true contradicts token_endpoint_auth_method"
        )
    chosen = str(method) if method is not None else "private_key_jwt" if legacy else preset.auth_method
    fixed = {"github": "client_secret_post", "apple": "client_secret_post"}.get(preset.name)
    if fixed is not None and chosen != fixed:
        raise ConfigurationError(
            f"upstream {upstream_id!r}: {preset.name} takes only token_endpoint_auth_method = {fixed!r}"
        )
    return chosen


def upstream_from_mapping(entry: Mapping[str, Any]) -> Upstream:
    """One ``[[upstreams]]`` table checked and completed from its preset; raise ConfigurationError."""
    raw_id = entry.get("id")
    if not isinstance(raw_id, str) or not _ID.fullmatch(raw_id):
        raise ConfigurationError(
            "an upstream's id must be 1-32 lower-case letters, digits, '-' or '_' (it is part of a URL)"
        )
    upstream_id = raw_id
    unknown = set(entry) - _KNOWN
    if unknown:
        raise ConfigurationError(f"upstream {upstream_id!r}: unknown setting(s) {', '.join(sorted(unknown))}")
    preset_name = _text(entry, "preset", upstream_id)
    preset = PRESETS.get(preset_name) if preset_name is not None else Preset("oidc")
    if preset is None:
        raise ConfigurationError(
            f"upstream {upstream_id!r}: preset must be one of {', '.join(sorted(PRESETS))}"
        )
    issuer = _url(entry.get("issuer", preset.issuer), "issuer", upstream_id)
    client_id = _text(entry, "client_id", upstream_id, required=True)
    secret_env = _text(entry, "client_secret_env", upstream_id)
    if secret_env is not None and not _ENV.fullmatch(secret_env):
        raise ConfigurationError(
            f"upstream {upstream_id!r}: client_secret_env must name an environment variable"
        )
    apple = {
        name: _text(entry, name, upstream_id)
        for name in ("apple_team_id", "apple_key_id", "apple_private_key_env")
    }
    auth_method = _auth_method(entry, upstream_id, preset)
    if auth_method == "private_key_jwt":
        if secret_env is not None or any(apple.values()):
            raise ConfigurationError(
                f"upstream {upstream_id!r}: private_key_jwt signs with Tessera's key: "
                "give no client_secret_env or apple_* settings"
            )
    elif sum([secret_env is not None, any(apple.values())]) != 1:
        raise ConfigurationError(
            f"upstream {upstream_id!r}: give exactly one of client_secret_env, "
            'token_endpoint_auth_method = "private_key_jwt" or the apple_* key settings'
        )
    if any(apple.values()) and (preset.name != "apple" or not all(apple.values())):
        raise ConfigurationError(
            f"upstream {upstream_id!r}: apple_team_id, apple_key_id and apple_private_key_env "
            'go together, with preset = "apple"'
        )
    if preset.name == "apple" and not all(apple.values()):
        raise ConfigurationError(
            f"upstream {upstream_id!r}: Apple needs apple_team_id, apple_key_id and apple_private_key_env"
        )
    scopes = entry.get("scopes", list(preset.default_scopes))
    if (
        not isinstance(scopes, list | tuple)
        or not scopes
        or not all(isinstance(s, str) and s and " " not in s for s in scopes)
    ):
        raise ConfigurationError(f"upstream {upstream_id!r}: scopes must be a non-empty list of scope names")
    if preset.kind == "oidc" and "openid" not in scopes:
        raise ConfigurationError(f'upstream {upstream_id!r}: scopes must include "openid"')
    tenants = entry.get("tenants", [])
    if not isinstance(tenants, list | tuple) or not all(
        isinstance(t, str) and re.fullmatch(r"[A-Za-z0-9.-]{1,64}", t) for t in tenants
    ):
        raise ConfigurationError(f"upstream {upstream_id!r}: tenants must be a list of tenant ids")
    if preset.name == "entra" and issuer.endswith("/common/v2.0") and not tenants:
        raise ConfigurationError(
            f"upstream {upstream_id!r}: the multi-tenant Entra issuer needs a tenants allowlist"
        )
    flags = {}
    for name in ("allow_sign_up", "trust_email_verified", "keep_tokens"):
        if name in entry and not isinstance(entry[name], bool):
            raise ConfigurationError(f"upstream {upstream_id!r}: {name} must be true or false")
    flags["allow_sign_up"] = entry.get("allow_sign_up", True)
    trusts = preset.trusts_email_verified and entry.get("trust_email_verified", True)
    endpoints = {
        name: _url(entry[name], name, upstream_id) if name in entry else getattr(preset, name, None)
        for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "api_base")
    }
    jwks_uri = _url(entry["jwks_uri"], "jwks_uri", upstream_id) if "jwks_uri" in entry else None
    name = _text(entry, "name", upstream_id) or upstream_id
    upstream = Upstream(
        id=upstream_id,
        name=name,
        issuer=issuer,
        client_id=str(client_id),
        client_secret_env=secret_env,
        token_endpoint_auth_method=auth_method,
        scopes=tuple(scopes),
        preset=preset_name,
        response_mode=preset.response_mode,
        trusts_email_verified=bool(trusts),
        kind=preset.kind,
        jwks_uri=jwks_uri,
        tenants=tuple(tenants),
        allow_sign_up=bool(flags["allow_sign_up"]),
        keep_tokens=entry.get("keep_tokens", False) is True,
        **apple,
        **endpoints,
    )
    if upstream.kind == "github" and not (upstream.authorization_endpoint and upstream.token_endpoint):
        raise ConfigurationError(f"upstream {upstream_id!r}: GitHub needs its endpoints")
    return upstream


def upstreams_from_config(entries: object) -> tuple[Upstream, ...]:
    """Every ``[[upstreams]]`` entry checked; ids must be unique."""
    if entries is None:
        return ()
    if not isinstance(entries, list | tuple) or not all(isinstance(e, Mapping) for e in entries):
        raise ConfigurationError("upstreams must be a list of tables ([[upstreams]])")
    upstreams = tuple(upstream_from_mapping(entry) for entry in entries)
    ids = [u.id for u in upstreams]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigurationError(f"upstream ids must be unique: {', '.join(duplicates)} repeated")
    return upstreams
