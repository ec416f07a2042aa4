"""The remote JWKS cache against a real issuer on 127.0.0.1 that counts requests.

Time moves only through an injected clock; the HTTP is real (UrllibFetcher), except where a
test needs to see that no connection is attempted at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tessera import TokenError, Verifier
from tessera.errors import ConfigurationError, Reason
from tessera.keys import SigningKey
from tessera.testing import LocalHTTPServer, LocalIssuer, Response
from tessera.verify.fetch import FetchError, FetchFailure, FetchResult
from tessera.verify.jwks import RemoteKeySet, fetch_jwks_document, remote_jwks


class ManualClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingFetcher:
    """A fetcher that answers from a handler function and records every URL it was asked for."""

    def __init__(self, handler: Callable[[str], FetchResult]) -> None:
        self.handler = handler
        self.urls: list[str] = []

    def fetch(self, url: str, *, timeout_seconds: float, max_bytes: int) -> FetchResult:
        self.urls.append(url)
        return self.handler(url)


@pytest.fixture(autouse=True)
def _clean_registry(fresh_jwks_registry: None) -> None:
    """Every test starts with no shared key sets."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def verifier_for(issuer: LocalIssuer, keys: RemoteKeySet) -> Verifier:
    return Verifier(issuer=issuer.issuer, audience="api", token_type="at+jwt", keys=keys, cache_size=0)


def reason_of(verifier: Verifier, token: str) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    return caught.value.reason


def jwks_hits(issuer: LocalIssuer) -> int:
    assert issuer.server is not None
    return issuer.server.count(issuer.jwks_path)


# --- the fast path and hydration -------------------------------------------------------------


def test_hydrate_fetches_once_then_verification_does_no_io(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)

    keys.hydrate()
    assert jwks_hits(local_issuer) == 1
    for _ in range(50):
        assert verifier.verify(local_issuer.mint()).subject == "user-123"
    clock.advance(299)
    keys.hydrate()

    assert verifier.verify(local_issuer.mint()).issuer == local_issuer.issuer
    assert jwks_hits(local_issuer) == 1


def test_first_lookup_fetches_lazily(local_issuer: LocalIssuer, clock: ManualClock) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    assert jwks_hits(local_issuer) == 0

    assert verifier_for(local_issuer, keys).verify(local_issuer.mint()).subject == "user-123"
    assert jwks_hits(local_issuer) == 1


async def test_async_lookup_uses_the_same_cache(local_issuer: LocalIssuer, clock: ManualClock) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)

    claims = await verifier.averify(local_issuer.mint())
    verifier.verify(local_issuer.mint())
    await verifier.averify(local_issuer.mint())

    assert claims.subject == "user-123"
    assert jwks_hits(local_issuer) == 1


# --- rotation (VER-55..58) --------------------------------------------------------------------


def test_ver55_new_kid_causes_exactly_one_refetch_then_is_accepted(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)
    keys.hydrate()
    clock.advance(31)  # outside the 30 s cooldown that started with the first fetch
    local_issuer.add_key()

    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert jwks_hits(local_issuer) == 2


def test_ver55_new_kid_inside_cooldown_is_rejected_then_accepted_after_it(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)
    keys.hydrate()
    old_token = local_issuer.mint()
    clock.advance(10)
    local_issuer.add_key()
    new_token = local_issuer.mint()

    assert reason_of(verifier, new_token) is Reason.UNKNOWN_KEY
    assert reason_of(verifier, new_token) is Reason.UNKNOWN_KEY
    assert jwks_hits(local_issuer) == 1
    assert verifier.verify(old_token).subject == "user-123"
    clock.advance(21)

    assert verifier.verify(new_token).subject == "user-123"
    assert jwks_hits(local_issuer) == 2


def test_ver56_retired_key_stops_verifying_once_the_cache_expires(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)
    retired = local_issuer.key
    keys.hydrate()
    successor = local_issuer.add_key()
    local_issuer.unpublish(retired)
    old_token = local_issuer.mint(key=retired)

    clock.advance(299)  # max-age=300 from the issuer's Cache-Control: still cached
    assert verifier.verify(old_token).subject == "user-123"
    clock.advance(2)

    assert reason_of(verifier, old_token) is Reason.UNKNOWN_KEY
    assert verifier.verify(local_issuer.mint(key=successor)).subject == "user-123"
    assert jwks_hits(local_issuer) == 2


def test_ver57_both_keys_verify_during_overlap(local_issuer: LocalIssuer, clock: ManualClock) -> None:
    first = local_issuer.key
    second = local_issuer.add_key("ES256")
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)

    assert verifier.verify(local_issuer.mint(key=first)).subject == "user-123"
    assert verifier.verify(local_issuer.mint(key=second)).subject == "user-123"
    assert jwks_hits(local_issuer) == 1
    forged = SigningKey.generate("ES256", kid=second.kid).sign_jwt(local_issuer.claims(), typ="at+jwt")
    assert reason_of(verifier, forged) is Reason.BAD_SIGNATURE


def test_ver58_same_kid_new_material_is_used_only_after_refresh(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    original = local_issuer.key
    replacement = SigningKey.generate("RS256", kid=original.kid)
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)
    keys.hydrate()
    local_issuer.keys = [replacement]
    local_issuer.published = [replacement]

    assert verifier.verify(local_issuer.mint(key=original)).subject == "user-123"
    assert reason_of(verifier, local_issuer.mint(key=replacement)) is Reason.BAD_SIGNATURE
    assert jwks_hits(local_issuer) == 1
    clock.advance(301)

    assert verifier.verify(local_issuer.mint(key=replacement)).subject == "user-123"
    assert reason_of(verifier, local_issuer.mint(key=original)) is Reason.BAD_SIGNATURE
    assert jwks_hits(local_issuer) == 2


# --- a failed verification never touches the cache (VER-61) ------------------------------------


def test_ver61_bad_signature_never_evicts_or_refreshes_keys(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    keys = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    verifier = verifier_for(local_issuer, keys)
    keys.hydrate()
    clock.advance(60)  # outside the cooldown: a refetch would be allowed if anything asked for one
    head, payload, signature = local_issuer.mint().split(".")
    tampered = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"

    for _ in range(20):
        assert reason_of(verifier, tampered) is Reason.BAD_SIGNATURE

    assert jwks_hits(local_issuer) == 1
    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert jwks_hits(local_issuer) == 1


# --- Cache-Control ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [
        ("max-age=120", 120),
        ("public, max-age=5", 60),  # below the floor: clamped up to min_max_age_seconds
        ("max-age=86400", 600),  # above the ceiling: clamped down to max_max_age_seconds
        (None, 300),  # absent: default_max_age_seconds
        ("no-store", 60),
    ],
)
def test_cache_control_max_age_is_honoured_within_bounds(
    http_server: LocalHTTPServer, clock: ManualClock, cache_control: str | None, lifetime: int
) -> None:
    issuer = LocalIssuer(server=http_server)
    headers = {"Cache-Control": cache_control} if cache_control else {}
    http_server.routes[issuer.jwks_path] = Response.json(issuer.jwks(), headers=headers)
    keys = RemoteKeySet(issuer.jwks_uri, clock=clock)
    kid = issuer.key.kid

    keys.get_key(kid)
    clock.advance(lifetime - 1)
    keys.get_key(kid)
    assert http_server.count(issuer.jwks_path) == 1
    clock.advance(1)
    keys.get_key(kid)

    assert http_server.count(issuer.jwks_path) == 2


# --- the shared registry --------------------------------------------------------------------------


def test_two_verifiers_of_one_jwks_uri_share_one_fetch(local_issuer: LocalIssuer) -> None:
    first = Verifier(
        issuer=local_issuer.issuer, audience="api", token_type="at+jwt", jwks_uri=local_issuer.jwks_uri
    )
    second = Verifier(
        issuer=local_issuer.issuer,
        audience=["api", "other"],
        token_type="at+jwt",
        jwks_uri=local_issuer.jwks_uri,
    )

    assert first.verify(local_issuer.mint()).subject == "user-123"
    assert second.verify(local_issuer.mint()).subject == "user-123"
    assert first.keys is second.keys
    assert jwks_hits(local_issuer) == 1


def test_registry_refuses_conflicting_options(local_issuer: LocalIssuer) -> None:
    shared = remote_jwks(issuer=local_issuer.issuer, jwks_uri=local_issuer.jwks_uri, cooldown_seconds=10)

    assert remote_jwks(issuer=local_issuer.issuer, jwks_uri=local_issuer.jwks_uri) is shared
    assert (
        remote_jwks(issuer=local_issuer.issuer, jwks_uri=local_issuer.jwks_uri, cooldown_seconds=10) is shared
    )
    with pytest.raises(ConfigurationError):
        remote_jwks(issuer=local_issuer.issuer, jwks_uri=local_issuer.jwks_uri, cooldown_seconds=5)


# --- bundling: snapshot, preload, fetch_jwks_document --------------------------------------------


def test_snapshot_preloads_another_key_set_with_zero_fetches(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    source = RemoteKeySet(local_issuer.jwks_uri, clock=clock)
    source.hydrate()
    bundle = json.loads(json.dumps(source.snapshot()))
    offline = RecordingFetcher(lambda url: FetchResult(500, {}, b""))
    keys = RemoteKeySet(local_issuer.jwks_uri, fetcher=offline, clock=clock)

    keys.preload(bundle)

    assert verifier_for(local_issuer, keys).verify(local_issuer.mint()).subject == "user-123"
    assert offline.urls == []
    with pytest.raises(ConfigurationError):
        keys.preload({"keys": []})


def test_snapshot_before_any_fetch_is_a_configuration_error(local_issuer: LocalIssuer) -> None:
    with pytest.raises(ConfigurationError):
        RemoteKeySet(local_issuer.jwks_uri).snapshot()


def test_fetch_jwks_document_keeps_only_usable_keys_and_loads_offline(local_issuer: LocalIssuer) -> None:
    published = local_issuer.jwks()
    published["keys"].append({"kty": "oct", "k": "c2VjcmV0", "kid": "shared"})
    published["keys"].append({**local_issuer.key.public_jwk(), "kid": "enc-key", "use": "enc"})
    assert local_issuer.server is not None
    local_issuer.server.routes[local_issuer.jwks_path] = Response.json(published)

    document = fetch_jwks_document(issuer=local_issuer.issuer)
    token = local_issuer.mint()
    local_issuer.stop()

    assert [k["kid"] for k in document["keys"]] == [local_issuer.key.kid]
    verifier = Verifier(issuer=local_issuer.issuer, audience="api", token_type="at+jwt", jwks=document)
    assert verifier.verify(token).subject == "user-123"


def test_fetch_jwks_document_reports_why_it_failed(local_issuer: LocalIssuer) -> None:
    local_issuer.jwks_response = Response(503, b"down")

    with pytest.raises(FetchError) as caught:
        fetch_jwks_document(issuer=local_issuer.issuer)
    assert caught.value.failure is FetchFailure.HTTP_STATUS


# --- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"cooldown_seconds": -1},
        {"cooldown_seconds": float("nan")},
        {"cooldown_seconds": True},
        {"cooldown_seconds": 120},  # longer than min_max_age_seconds
        {"min_max_age_seconds": 0},
        {"min_max_age_seconds": 700},
        {"default_max_age_seconds": 30},
        {"stale_if_error_seconds": -5},
        {"timeout_seconds": 0},
        {"timeout_seconds": 120},
        {"max_bytes": 10},
        {"max_bytes": 65536.0},
        {"parse": "parse_jwks"},
        {"fetcher": object()},
    ],
)
def test_bad_settings_fail_at_construction(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RemoteKeySet("https://issuer.example.com/jwks", **options)
    assert RemoteKeySet("https://issuer.example.com/jwks").cooldown == 30


@pytest.mark.parametrize(
    "jwks_uri",
    [
        "http://issuer.example.com/jwks",
        "file:///etc/jwks.json",
        "ftp://127.0.0.1/jwks",
        "https://a@127.0.0.1/",
    ],
)
def test_ver60_unsafe_jwks_uri_is_refused_at_construction(jwks_uri: str) -> None:
    never = RecordingFetcher(lambda url: FetchResult(200, {}, b"{}"))

    with pytest.raises(ConfigurationError):
        RemoteKeySet(jwks_uri, fetcher=never)
    with pytest.raises(ConfigurationError):
        Verifier(issuer="https://issuer.example.com", audience="api", token_type="at+jwt", jwks_uri=jwks_uri)

    assert never.urls == []
    assert (
        RemoteKeySet("https://issuer.example.com/jwks", fetcher=never).jwks_uri
        == "https://issuer.example.com/jwks"
    )
