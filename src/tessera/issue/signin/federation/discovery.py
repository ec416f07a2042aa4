"""An upstream's endpoints: from OpenID discovery, completed or overridden by its settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from tessera.issue.signin.federation.http import UpstreamHTTP, json_body
from tessera.issue.signin.federation.upstreams import ENTRA_ISSUER_TEMPLATE, Upstream
from tessera.verify.discovery import discovery_url
from tessera.verify.fetch import FetchError, FetchFailure

__all__ = [
    "EndpointCache",
    "IssuerMismatch",
    "UpstreamEndpoints",
    "discover",
    "discovery_document",
    "endpoints_from",
    "settings_endpoints",
]

CACHE_SECONDS = 3600
_ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True)
class UpstreamEndpoints:
    """Where an upstream's endpoints are, and what its metadata promises."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str | None = None
    userinfo_endpoint: str | None = None
    iss_parameter_supported: bool = False
    id_token_algorithms: frozenset[str] = frozenset({"RS256"})


class IssuerMismatch(FetchError):
    """The discovery document names another issuer than the configured one."""

    def __init__(self, url: str, published: object) -> None:
        super().__init__(FetchFailure.BAD_DOCUMENT, url, "its issuer is not the configured issuer")
        self.url = url
        self.published = str(published)[:200] if isinstance(published, str) else None


def _from_settings(upstream: Upstream) -> UpstreamEndpoints | None:
    if (
        upstream.authorization_endpoint
        and upstream.token_endpoint
        and (upstream.kind == "github" or upstream.jwks_uri)
    ):
        return UpstreamEndpoints(
            issuer=upstream.issuer,
            authorization_endpoint=upstream.authorization_endpoint,
            token_endpoint=upstream.token_endpoint,
            jwks_uri=upstream.jwks_uri,
            userinfo_endpoint=upstream.userinfo_endpoint,
            id_token_algorithms=_ASYMMETRIC,
        )
    return None


def _string(document: dict[str, object], name: str, url: str, *, required: bool) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise FetchError(FetchFailure.BAD_DOCUMENT, url, f"{name} is missing")
    return value


def discovery_document(upstream: Upstream, http: UpstreamHTTP) -> dict[str, object]:
    """The upstream's OpenID configuration, whose ``issuer`` is the configured one; raise FetchError.

    The document's ``issuer`` must be the configured issuer exactly (for Entra's multi-tenant
    ``common`` issuer, the ``{tenantid}`` template Microsoft publishes there).
    """
    url = discovery_url(upstream.issuer)
    result = http.request("GET", url, headers={})
    if result.status != 200:
        raise FetchError(FetchFailure.HTTP_STATUS, url, f"status {result.status}")
    document = json_body(result, url)
    published = document.get("issuer")
    expected = {upstream.issuer}
    if upstream.preset == "entra":
        expected.add(ENTRA_ISSUER_TEMPLATE.format(tenant="{tenantid}"))
    if published not in expected:
        raise IssuerMismatch(url, published)
    return document


def endpoints_from(upstream: Upstream, document: dict[str, object]) -> UpstreamEndpoints:
    """The endpoints of a discovery document, settings first; raise FetchError when one is missing."""
    url = discovery_url(upstream.issuer)
    algorithms = document.get("id_token_signing_alg_values_supported", ["RS256"])
    allowed = (
        frozenset(a for a in algorithms if isinstance(a, str)) & _ASYMMETRIC
        if isinstance(algorithms, list)
        else frozenset()
    )
    return UpstreamEndpoints(
        issuer=upstream.issuer,
        authorization_endpoint=upstream.authorization_endpoint
        or str(_string(document, "authorization_endpoint", url, required=True)),
        token_endpoint=upstream.token_endpoint
        or str(_string(document, "token_endpoint", url, required=True)),
        jwks_uri=upstream.jwks_uri or _string(document, "jwks_uri", url, required=True),
        userinfo_endpoint=upstream.userinfo_endpoint
        or _string(document, "userinfo_endpoint", url, required=False),
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported") is True,
        id_token_algorithms=allowed or frozenset({"RS256"}),
    )


def settings_endpoints(upstream: Upstream) -> UpstreamEndpoints | None:
    """The endpoints when the settings name them all (no discovery), else None."""
    return _from_settings(upstream)


def discover(upstream: Upstream, http: UpstreamHTTP) -> UpstreamEndpoints:
    """The upstream's endpoints; settings win over discovery. Raise FetchError."""
    configured = _from_settings(upstream)
    if configured is not None:
        return configured
    return endpoints_from(upstream, discovery_document(upstream, http))


class EndpointCache:
    """Discovered endpoints per upstream id, kept for an hour."""

    def __init__(self, http: UpstreamHTTP, clock: Callable[[], float]) -> None:
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float, UpstreamEndpoints]] = {}

    def get(self, upstream: Upstream) -> UpstreamEndpoints:
        """The upstream's endpoints, discovered at most once an hour; raise FetchError."""
        now = self._clock()
        with self._lock:
            known = self._known.get(upstream.id)
        if known is not None and known[0] > now:
            return known[1]
        endpoints = discover(upstream, self._http)
        with self._lock:
            self._known[upstream.id] = (now + CACHE_SECONDS, endpoints)
        return endpoints
