"""OpenID discovery for the remote key set: lazy, exact-issuer, configured hosts only (VER-60)."""

from __future__ import annotations

import json

import pytest

from tessera import MultiIssuerVerifier, TokenError, Verifier
from tessera.errors import ConfigurationError, Reason
from tessera.testing import LocalHTTPServer, LocalIssuer, ManualClock, RecordingFetcher, Response
from tessera.verify.fetch import FetchError, FetchFailure, FetchResult
from tessera.verify.jwks import RemoteKeySet, remote_jwks

DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture(autouse=True)
def _clean_registry(fresh_jwks_registry: None) -> None:
    """Every test starts with no shared key sets."""


def discovering_verifier(issuer: str) -> Verifier:
    return Verifier(issuer=issuer, audience="api", token_type="at+jwt", cache_size=0)


def reason_of(verifier: Verifier, token: str) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    return caught.value.reason


def hits(issuer: LocalIssuer, path: str) -> int:
    assert issuer.server is not None
    return issuer.server.count(path)


def test_discovery_is_lazy_and_shared_by_every_verifier_of_the_issuer(local_issuer: LocalIssuer) -> None:
    first = discovering_verifier(local_issuer.issuer)
    second = discovering_verifier(local_issuer.issuer)
    assert hits(local_issuer, DISCOVERY) == 0

    assert first.verify(local_issuer.mint()).subject == "user-123"
    assert second.verify(local_issuer.mint()).subject == "user-123"

    assert (hits(local_issuer, DISCOVERY), hits(local_issuer, local_issuer.jwks_path)) == (1, 1)
    assert isinstance(first.keys, RemoteKeySet)
    assert first.keys is second.keys
    assert first.keys.jwks_uri == local_issuer.jwks_uri


def test_discovery_under_a_path_issuer(http_server: LocalHTTPServer) -> None:
    issuer = LocalIssuer(path="/tenant/v2.0", server=http_server)

    assert discovering_verifier(issuer.issuer).verify(issuer.mint()).subject == "user-123"
    assert http_server.count(f"/tenant/v2.0{DISCOVERY}") == 1


def test_hydrate_discovers_and_fetches_once(local_issuer: LocalIssuer) -> None:
    verifier = discovering_verifier(local_issuer.issuer)

    verifier.hydrate()
    verifier.verify(local_issuer.mint())

    assert (hits(local_issuer, DISCOVERY), hits(local_issuer, local_issuer.jwks_path)) == (1, 1)


@pytest.mark.parametrize("claimed", ["https://evil.example", "{issuer}/", "{issuer}/other", "{ISSUER}"])
def test_ver60_discovery_document_for_another_issuer_is_refused(
    http_server: LocalHTTPServer, claimed: str
) -> None:
    issuer = LocalIssuer(server=http_server)
    document = {
        "issuer": claimed.format(issuer=issuer.issuer, ISSUER=issuer.issuer.upper()),
        "jwks_uri": issuer.jwks_uri,
    }
    http_server.routes[DISCOVERY] = Response.json(document)
    verifier = discovering_verifier(issuer.issuer)

    assert reason_of(verifier, issuer.mint()) is Reason.KEYS_UNAVAILABLE
    assert http_server.count(issuer.jwks_path) == 0
    assert isinstance(verifier.keys, RemoteKeySet)
    assert isinstance(verifier.keys.last_error, FetchError)
    assert verifier.keys.last_error.failure is FetchFailure.BAD_DOCUMENT
    genuine = discovering_verifier(issuer.issuer + "/ok")
    http_server.routes[f"/ok{DISCOVERY}"] = Response.json(
        {"issuer": issuer.issuer + "/ok", "jwks_uri": issuer.jwks_uri}
    )
    assert genuine.verify(issuer.mint(iss=issuer.issuer + "/ok")).subject == "user-123"


@pytest.mark.parametrize(
    "jwks_uri",
    [
        "http://192.0.2.10/jwks",
        "file:///etc/passwd",
        "ftp://127.0.0.1/jwks",
        "https://issuer.example@127.0.0.1:1/jwks",
        None,
        42,
    ],
)
def test_ver60_discovered_jwks_uri_must_follow_the_url_rules(jwks_uri: object) -> None:
    issuer = "https://issuer.example"

    def answer(url: str) -> FetchResult:
        return FetchResult(200, {}, json.dumps({"issuer": issuer, "jwks_uri": jwks_uri}).encode())

    fetcher = RecordingFetcher(answer)
    keys = RemoteKeySet(None, issuer=issuer, fetcher=fetcher)

    with pytest.raises(TokenError) as caught:
        keys.get_key("k")

    assert caught.value.reason is Reason.KEYS_UNAVAILABLE
    assert fetcher.urls == [f"{issuer}{DISCOVERY}"]  # the JWKS itself was never requested
    assert keys.jwks_uri is None


def test_ver60_discovery_redirect_is_not_followed(http_server: LocalHTTPServer) -> None:
    issuer = LocalIssuer(server=http_server)
    http_server.routes[DISCOVERY] = Response(302, b"", {"Location": f"{http_server.url}/moved"})
    http_server.routes["/moved"] = Response.json({"issuer": issuer.issuer, "jwks_uri": issuer.jwks_uri})

    assert reason_of(discovering_verifier(issuer.issuer), issuer.mint()) is Reason.KEYS_UNAVAILABLE
    assert http_server.count("/moved") == 0
    assert http_server.count(issuer.jwks_path) == 0


def test_failed_discovery_is_retried_under_the_cooldown(local_issuer: LocalIssuer) -> None:
    clock = ManualClock()
    assert local_issuer.server is not None
    working = local_issuer.server.routes[DISCOVERY]
    local_issuer.server.routes[DISCOVERY] = Response(503, b"unavailable")
    keys = remote_jwks(issuer=local_issuer.issuer, clock=clock)
    verifier = Verifier(issuer=local_issuer.issuer, audience="api", token_type="at+jwt", keys=keys)
    token = local_issuer.mint()

    assert reason_of(verifier, token) is Reason.KEYS_UNAVAILABLE
    local_issuer.server.routes[DISCOVERY] = working
    clock.advance(29)
    assert reason_of(verifier, token) is Reason.KEYS_UNAVAILABLE
    assert hits(local_issuer, DISCOVERY) == 1
    clock.advance(1)

    assert verifier.verify(token).subject == "user-123"
    assert (hits(local_issuer, DISCOVERY), hits(local_issuer, local_issuer.jwks_path)) == (2, 1)


def test_ver60_token_iss_never_triggers_discovery_of_an_unconfigured_host(local_issuer: LocalIssuer) -> None:
    with LocalIssuer() as stranger:
        verifier = discovering_verifier(local_issuer.issuer)
        multi = MultiIssuerVerifier([verifier])
        foreign = stranger.mint()
        forged_kid = stranger.mint(iss=local_issuer.issuer)  # claims our issuer, signed by the stranger

        assert reason_of(verifier, foreign) is Reason.UNKNOWN_KEY
        with pytest.raises(TokenError) as caught:
            multi.verify(foreign)
        assert caught.value.reason is Reason.WRONG_ISSUER
        assert reason_of(verifier, forged_kid) is Reason.UNKNOWN_KEY
        assert multi.verify(local_issuer.mint()).subject == "user-123"
        assert stranger.server is not None
        assert stranger.server.total() == 0


@pytest.mark.parametrize("issuer", ["http://issuer.example.com", "file:///tmp/issuer", "not a url", ""])
def test_ver60_undiscoverable_issuer_is_a_configuration_error(issuer: str) -> None:
    with pytest.raises(ConfigurationError):
        discovering_verifier(issuer)
    with pytest.raises(ConfigurationError):
        RemoteKeySet(None, issuer=issuer)
    with pytest.raises(ConfigurationError):
        RemoteKeySet(None)
    assert RemoteKeySet(None, issuer="https://issuer.example.com").jwks_uri is None


def test_a_bundle_preloaded_into_the_shared_key_set_serves_verifiers_with_no_network(
    local_issuer: LocalIssuer,
) -> None:
    bundle = json.loads(json.dumps(local_issuer.jwks()))
    remote_jwks(issuer=local_issuer.issuer).preload(bundle)
    verifier = discovering_verifier(local_issuer.issuer)

    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert local_issuer.server is not None
    assert local_issuer.server.total() == 0
    local_issuer.add_key()  # a rotation is still followed: discovery, then one JWKS fetch
    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert (hits(local_issuer, DISCOVERY), hits(local_issuer, local_issuer.jwks_path)) == (1, 1)
