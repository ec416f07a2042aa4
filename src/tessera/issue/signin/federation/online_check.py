"""``tessera config check --online``: each upstream's discovery document and JWKS, fetched and judged.

Offline, ``[[upstreams]]`` entries are only read; this module is the one place that contacts
the upstreams, and only when asked. Each upstream gets one verdict: OK, or the first problem as
one line (unreachable, issuer mismatch, no S256, an unsupported client authentication method,
no signing key in its JWKS ...), the same checks the sign-in itself would trip over later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tessera.issue.signin.federation.discovery import (
    IssuerMismatch,
    UpstreamEndpoints,
    discovery_document,
    endpoints_from,
    settings_endpoints,
)
from tessera.issue.signin.federation.http import UpstreamHTTP, UrllibUpstreamHTTP, json_body
from tessera.issue.signin.federation.upstreams import Upstream
from tessera.verify.discovery import discovery_url
from tessera.verify.fetch import FetchError, FetchFailure

__all__ = ["UpstreamVerdict", "check_upstream", "check_upstreams"]

_UNREACHABLE = frozenset({FetchFailure.NETWORK, FetchFailure.TIMEOUT})


@dataclass(frozen=True)
class UpstreamVerdict:
    """One upstream's result: ``problem`` is None when it passed, else one line saying why not."""

    upstream_id: str
    problem: str | None
    summary: str = ""

    @property
    def ok(self) -> bool:
        """True when the upstream passed every check."""
        return self.problem is None

    def line(self) -> str:
        """``upstream ID: ok (...)`` or ``upstream ID: PROBLEM``."""
        return f"upstream {self.upstream_id}: " + (f"ok ({self.summary})" if self.ok else str(self.problem))


class _Problem(Exception):
    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def _fetch_failed(what: str, exc: FetchError) -> _Problem:
    if isinstance(exc, IssuerMismatch):
        named = repr(exc.published) if exc.published is not None else "no issuer"
        return _Problem(f"issuer mismatch: {exc.url} names {named}")
    if exc.failure in _UNREACHABLE:
        return _Problem(f"unreachable: {what}: {exc}")
    return _Problem(f"{what}: {exc}")


def _listed(document: dict[str, object], name: str) -> list[str] | None:
    value = document.get(name)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else None


def _judge_document(upstream: Upstream, document: dict[str, object]) -> None:
    """What the sign-in needs from the metadata: the code flow, PKCE S256, our client authentication."""
    response_types = _listed(document, "response_types_supported")
    if response_types is not None and "code" not in response_types:
        raise _Problem("no code flow: response_types_supported lacks 'code'")
    pkce = _listed(document, "code_challenge_methods_supported")
    if pkce is not None and "S256" not in pkce:
        raise _Problem("no S256: code_challenge_methods_supported lacks 'S256' (PKCE is required)")
    methods = _listed(document, "token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if upstream.token_endpoint_auth_method not in methods:
        raise _Problem(
            f"{upstream.token_endpoint_auth_method} not supported: the token endpoint takes "
            + ", ".join(methods[:6])
        )
    modes = _listed(document, "response_modes_supported")
    if upstream.response_mode != "query" and modes is not None and upstream.response_mode not in modes:
        raise _Problem(f"no {upstream.response_mode}: response_modes_supported lacks it")


def _judge_jwks(upstream: Upstream, endpoints: UpstreamEndpoints, http: UpstreamHTTP) -> int:
    """The number of keys in the upstream's JWKS that can verify its ID tokens; raise _Problem."""
    from tessera.verify.keyset import JWKSError, parse_jwks

    url = endpoints.jwks_uri
    if url is None:
        raise _Problem("no jwks_uri")
    try:
        result = http.request("GET", url, headers={})
        if result.status != 200:
            raise FetchError(FetchFailure.HTTP_STATUS, url, f"status {result.status}")
        keys = parse_jwks(json_body(result, url))
    except FetchError as exc:
        raise _fetch_failed("JWKS", exc) from None
    except JWKSError as exc:
        raise _Problem(f"JWKS: {exc}") from None
    usable = [k for k in keys.values() if k.algorithms & endpoints.id_token_algorithms]
    if not usable:
        wanted = ", ".join(sorted(endpoints.id_token_algorithms))
        raise _Problem(f"JWKS has no key for {wanted}")
    return len(usable)


def check_upstream(upstream: Upstream, http: UpstreamHTTP) -> UpstreamVerdict:
    """Fetch the upstream's discovery document (unless its settings name every endpoint) and JWKS."""
    if upstream.kind == "github":
        return UpstreamVerdict(upstream.id, None, "GitHub is OAuth 2.0: no discovery document or JWKS")
    try:
        endpoints = settings_endpoints(upstream)
        source = "endpoints from settings"
        if endpoints is None:
            try:
                document = discovery_document(upstream, http)
                endpoints = endpoints_from(upstream, document)
            except FetchError as exc:
                raise _fetch_failed("discovery", exc) from None
            _judge_document(upstream, document)
            source = f"discovery at {discovery_url(upstream.issuer)}"
        keys = _judge_jwks(upstream, endpoints, http)
    except _Problem as problem:
        return UpstreamVerdict(upstream.id, problem.line)
    return UpstreamVerdict(upstream.id, None, f"{source}, {keys} signing key{'s' if keys != 1 else ''}")


def check_upstreams(
    upstreams: Iterable[Upstream], http: UpstreamHTTP | None = None
) -> Sequence[UpstreamVerdict]:
    """A verdict for each upstream, in order."""
    client = http or UrllibUpstreamHTTP()
    return [check_upstream(upstream, client) for upstream in upstreams]
