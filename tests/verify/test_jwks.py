"""The remote JWKS cache against a real issuer on 127.0.0.1 that counts requests.

Time moves only through an injected clock; the HTTP is real (UrllibFetcher), except where a
test needs to see that no connection is attempted at all.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tessera import TokenError, Verifier
from tessera.encoding import json_dumps
from tessera.errors import ConfigurationError, Reason
from tessera.keys import SigningKey, sign_compact
from tessera.testing import LocalHTTPServer, LocalIssuer, ManualClock, RecordingFetcher, Response
from tessera.verify.fetch import FetchError, FetchFailure, FetchResult
from tessera.verify.jwks import RemoteKeySet, fetch_jwks_document, remote_jwks
from tessera.verify.keys import VerificationKey
from tessera.verify.keyset import parse_jwks


@pytest.fixture(autouse=True)
def _clean_registry(fresh_jwks_registry: None) -> None:
    """Every test starts with no shared key sets."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def verifier_for(issuer: LocalIssuer, keys: RemoteKeySet) -> Verifier:
    return Verifier(issuer=issuer.issuer, audience="api", token_type="at+jwt", keys=keys, cache_size=0)


def remote_verifier(
    issuer: LocalIssuer, clock: ManualClock, *, hydrate: bool = False, **options: Any
) -> tuple[RemoteKeySet, Verifier]:
    """A RemoteKeySet for ``issuer``'s JWKS on ``clock`` (fetched now if ``hydrate``), and its verifier."""
    keys = RemoteKeySet(issuer.jwks_uri, clock=clock, **options)
    if hydrate:
        keys.hydrate()
    return keys, verifier_for(issuer, keys)


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
    keys, verifier = remote_verifier(local_issuer, clock)

    keys.hydrate()
    assert jwks_hits(local_issuer) == 1
    for _ in range(50):
        assert verifier.verify(local_issuer.mint()).subject == "user-123"
    clock.advance(299)
    keys.hydrate()

    assert verifier.verify(local_issuer.mint()).issuer == local_issuer.issuer
    assert jwks_hits(local_issuer) == 1


def test_first_lookup_fetches_lazily(local_issuer: LocalIssuer, clock: ManualClock) -> None:
    _, verifier = remote_verifier(local_issuer, clock)
    assert jwks_hits(local_issuer) == 0

    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert jwks_hits(local_issuer) == 1


async def test_async_lookup_uses_the_same_cache(local_issuer: LocalIssuer, clock: ManualClock) -> None:
    _, verifier = remote_verifier(local_issuer, clock)

    claims = await verifier.averify(local_issuer.mint())
    verifier.verify(local_issuer.mint())
    await verifier.averify(local_issuer.mint())

    assert claims.subject == "user-123"
    assert jwks_hits(local_issuer) == 1


# --- rotation (VER-55..58) --------------------------------------------------------------------


def test_ver55_new_kid_causes_exactly_one_refetch_then_is_accepted(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
    clock.advance(31)  # outside the 30 s cooldown that started with the first fetch
    local_issuer.add_key()

    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert jwks_hits(local_issuer) == 2


def test_ver55_new_kid_inside_cooldown_is_rejected_then_accepted_after_it(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
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
    retired = local_issuer.key
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
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
    _, verifier = remote_verifier(local_issuer, clock)

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
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
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
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
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
    assert (
        remote_jwks(issuer="https://other.example", jwks_uri=local_issuer.jwks_uri, parse=parse_jwks)
        is shared
    )
    with pytest.raises(ConfigurationError):
        remote_jwks(issuer=local_issuer.issuer, jwks_uri=local_issuer.jwks_uri, cooldown_seconds=5)
    with pytest.raises(ConfigurationError):
        remote_jwks(issuer=local_issuer.issuer, jwks_uri=local_issuer.jwks_uri, timeout_seconds=1.0)


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


# --- endpoint failures: stale-if-error, then fail closed (VER-59, LAM-10) -----------------------


def _many_keys(issuer: LocalIssuer, count: int) -> Response:
    jwk = issuer.key.public_jwk()
    return Response.json({"keys": [{**jwk, "kid": f"k{i}"} for i in range(count)]})


JWKS_FAILURES: dict[str, Callable[[LocalIssuer], Response]] = {
    "status_500": lambda issuer: Response(500, b"internal error"),
    "slower_than_timeout": lambda issuer: Response.json(issuer.jwks())._replace(delay_seconds=3.0),
    "html": lambda issuer: Response(200, b"<html><body>Login</body></html>", {"Content-Type": "text/html"}),
    "invalid_json": lambda issuer: Response(200, b'{"keys": [', {"Content-Type": "application/json"}),
    "keys_is_object": lambda issuer: Response.json({"keys": {}}),
    "keys_not_array": lambda issuer: Response.json({"keys": "not-an-array"}),
    "json_array": lambda issuer: Response.json([issuer.key.public_jwk()]),
    "five_megabytes": lambda issuer: Response(200, b'{"keys": [' + b" " * (5 * 1024 * 1024) + b"]}"),
    "ten_thousand_keys": lambda issuer: _many_keys(issuer, 10_000),
    "duplicate_kids": lambda issuer: Response.json({"keys": [issuer.key.public_jwk()] * 2}),
    "no_usable_key": lambda issuer: Response.json({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}),
    "private_key": lambda issuer: Response.json({"keys": [{**issuer.key.public_jwk(), "d": "AQAB"}]}),
    "redirect": lambda issuer: Response(302, b"", {"Location": issuer.jwks_uri + "?moved"}),
    "empty_body": lambda issuer: Response(200, b""),
}


@pytest.mark.parametrize("failure", sorted(JWKS_FAILURES))
def test_ver59_failed_refresh_keeps_last_good_keys_then_fails_closed(
    local_issuer: LocalIssuer, clock: ManualClock, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    # 16 MiB lets the 10,000-key document reach the parser, so its key-count limit is what trips.
    max_bytes = 16 * 1024 * 1024 if failure == "ten_thousand_keys" else 65536
    keys, verifier = remote_verifier(
        local_issuer, clock, hydrate=True, timeout_seconds=0.5, max_bytes=max_bytes
    )
    token = local_issuer.mint()
    local_issuer.jwks_response = JWKS_FAILURES[failure](local_issuer)

    clock.advance(301)  # past max-age: this lookup refetches, fails, and falls back to the last good keys
    assert verifier.verify(token).subject == "user-123"
    assert jwks_hits(local_issuer) == 2
    assert keys.last_error is not None
    assert any("keeping the last good keys" in r.getMessage() for r in caplog.records)
    clock.advance(10)  # inside the cooldown: no new attempt
    assert verifier.verify(token).subject == "user-123"
    assert reason_of(verifier, local_issuer.mint(key=SigningKey.generate("ES256"))) is Reason.UNKNOWN_KEY
    assert jwks_hits(local_issuer) == 2

    clock.advance(3600 - 10)  # stale_if_error_seconds=3600 after expiry: over
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason is Reason.KEYS_UNAVAILABLE
    assert (caught.value.status, caught.value.error) == (401, "invalid_token")
    assert jwks_hits(local_issuer) == 3

    local_issuer.jwks_response = None  # the issuer recovers
    clock.advance(31)
    assert verifier.verify(token).subject == "user-123"
    assert jwks_hits(local_issuer) == 4


@pytest.mark.parametrize("failure", ["status_500", "html", "duplicate_kids", "slower_than_timeout"])
def test_ver59_nothing_fetched_yet_and_failure_is_keys_unavailable(
    local_issuer: LocalIssuer, clock: ManualClock, failure: str
) -> None:
    keys, verifier = remote_verifier(local_issuer, clock, timeout_seconds=0.5)
    local_issuer.jwks_response = JWKS_FAILURES[failure](local_issuer)
    token = local_issuer.mint()

    assert reason_of(verifier, token) is Reason.KEYS_UNAVAILABLE
    assert reason_of(verifier, token) is Reason.KEYS_UNAVAILABLE
    with pytest.raises(TokenError):
        keys.hydrate()
    assert jwks_hits(local_issuer) == 1  # the second lookup and hydrate() were inside the cooldown

    local_issuer.jwks_response = None
    clock.advance(30)
    assert verifier.verify(token).subject == "user-123"


def test_lam10_slow_jwks_endpoint_gives_keys_unavailable_not_a_hang(local_issuer: LocalIssuer) -> None:
    local_issuer.jwks_response = Response.json(local_issuer.jwks())._replace(delay_seconds=3.0)
    keys = RemoteKeySet(local_issuer.jwks_uri, timeout_seconds=0.2)

    with pytest.raises(TokenError) as caught:
        verifier_for(local_issuer, keys).verify(local_issuer.mint())

    assert caught.value.reason is Reason.KEYS_UNAVAILABLE
    assert isinstance(keys.last_error, FetchError)
    assert keys.last_error.failure is FetchFailure.TIMEOUT
    fast = RemoteKeySet(local_issuer.jwks_uri, fetcher=RecordingFetcher(lambda url: serve(local_issuer)))
    assert verifier_for(local_issuer, fast).verify(local_issuer.mint()).subject == "user-123"


def serve(issuer: LocalIssuer) -> FetchResult:
    """The issuer's JWKS as an in-memory response."""
    return FetchResult(200, {"cache-control": "max-age=300"}, json.dumps(issuer.jwks()).encode())


def test_a_parser_that_crashes_is_a_failed_refresh_not_an_uncaught_exception(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    calls: list[Any] = []

    def fragile(document: Any) -> dict[str | None, VerificationKey]:
        calls.append(document)
        if len(calls) > 1:
            raise KeyError("surprise")
        return parse_jwks(document)

    keys, verifier = remote_verifier(local_issuer, clock, hydrate=True, parse=fragile)
    clock.advance(301)

    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert isinstance(keys.last_error, KeyError)
    assert len(calls) == 2


# --- unknown-kid flood and single-flight (VER-16) ------------------------------------------------


def _slow_jwks(issuer: LocalIssuer) -> Response:
    """The real JWKS, answered after a pause so that concurrent lookups overlap one fetch."""
    return Response.json(issuer.jwks(), headers={"Cache-Control": "max-age=300"})._replace(delay_seconds=0.3)


async def _verify_concurrently(verifier: Verifier, in_threads: list[str], in_tasks: list[str]) -> list[str]:
    """Verify tokens from 100-ish threads and asyncio tasks at once; the outcome of each, in order."""

    def outcome(token: str) -> str:
        try:
            return verifier.verify(token).subject or ""
        except TokenError as exc:
            return exc.reason.value

    async def aoutcome(token: str) -> str:
        try:
            return (await verifier.averify(token)).subject or ""
        except TokenError as exc:
            return exc.reason.value

    barrier = threading.Barrier(len(in_threads))

    def together(token: str) -> str:
        barrier.wait(timeout=10)
        return outcome(token)

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=len(in_threads)) as pool:
        threads = [loop.run_in_executor(pool, together, token) for token in in_threads]
        return list(await asyncio.gather(*threads, *(aoutcome(token) for token in in_tasks)))


async def test_ver16_unknown_kid_flood_fetches_at_most_once_per_cooldown(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
    attacker = SigningKey.generate("ES256")
    rng = random.Random(16)
    flood = [
        attacker.sign_jwt(local_issuer.claims(), typ="at+jwt", kid=f"{rng.getrandbits(128):032x}")
        for _ in range(1000)
    ]
    local_issuer.jwks_response = _slow_jwks(local_issuer)
    outcomes: list[str] = []

    for window, batch in enumerate((flood[:500], flood[500:])):
        clock.advance(31)  # a new cooldown window (the cache itself stays fresh: max-age 300)
        genuine = local_issuer.mint()
        outcomes += await _verify_concurrently(verifier, batch[:100], [*batch[100:200], genuine])
        assert outcomes.pop() == "user-123"
        for token in batch[200:]:
            outcomes.append(reason_of(verifier, token).value)
            clock.advance(0.01)
        assert verifier.verify(local_issuer.mint()).subject == "user-123"
        assert jwks_hits(local_issuer) == 1 + (window + 1)  # hydrate, then one fetch per window

    assert len(outcomes) == 1000
    assert set(outcomes) == {Reason.UNKNOWN_KEY.value}


async def test_ver16_concurrent_misses_for_a_new_key_share_one_fetch(
    local_issuer: LocalIssuer, clock: ManualClock
) -> None:
    _, verifier = remote_verifier(local_issuer, clock, hydrate=True)
    clock.advance(31)
    local_issuer.add_key()
    local_issuer.jwks_response = _slow_jwks(local_issuer)
    tokens = [local_issuer.mint() for _ in range(100)]

    outcomes = await _verify_concurrently(verifier, tokens[:50], tokens[50:])

    # A caller that missed the one fetch would have met the cooldown and got unknown_key instead.
    assert outcomes == ["user-123"] * 100
    assert jwks_hits(local_issuer) == 2


async def test_async_fetch_does_not_block_the_event_loop(
    http_server: LocalHTTPServer, clock: ManualClock
) -> None:
    issuer = LocalIssuer(server=http_server)
    released = threading.Event()

    def gated() -> Response:
        released.wait(timeout=5)
        return Response.json(issuer.jwks())

    http_server.routes[issuer.jwks_path] = gated
    _, verifier = remote_verifier(issuer, clock)

    verification = asyncio.create_task(verifier.averify(issuer.mint()))
    await asyncio.sleep(0)  # the task runs up to its first await; a blocking fetch would stall here
    released.set()  # reached only while the fetch is pending, if the loop is free

    assert (await verification).subject == "user-123"
    assert http_server.count(issuer.jwks_path) == 1


# --- key-locating headers never fetch (VER-10, VER-11) --------------------------------------------


@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_ver10_ver11_jku_and_x5u_never_fetch_or_select_a_key(
    local_issuer: LocalIssuer, clock: ManualClock, member: str
) -> None:
    attacker = SigningKey.generate("RS256")
    _, verifier = remote_verifier(local_issuer, clock)
    with LocalHTTPServer() as listener:
        listener.routes["/jwks.json"] = Response.json({"keys": [attacker.public_jwk()]})
        listener.routes["/cert.pem"] = Response(200, b"-----BEGIN CERTIFICATE-----")
        target = f"{listener.url}/cert.pem" if member == "x5u" else f"{listener.url}/jwks.json"
        claims = local_issuer.claims()
        forged = {
            "attacker kid": attacker.sign_jwt(claims, typ="at+jwt", **{member: target}),
            "genuine kid": attacker.sign_jwt(
                claims, typ="at+jwt", kid=local_issuer.key.kid, **{member: target}
            ),
            "userinfo trick": attacker.sign_jwt(
                claims,
                typ="at+jwt",
                **{member: f"https://issuer.example@127.0.0.1:{listener.port}/jwks.json"},
            ),
            "real jwks_uri": attacker.sign_jwt(claims, typ="at+jwt", **{member: local_issuer.jwks_uri}),
        }

        outcomes = {name: reason_of(verifier, token) for name, token in forged.items()}
        genuine = local_issuer.mint(header={member: target})

        assert verifier.verify(genuine).subject == "user-123"
        assert listener.total() == 0
    assert outcomes == {
        "attacker kid": Reason.UNKNOWN_KEY,
        "genuine kid": Reason.BAD_SIGNATURE,
        "userinfo trick": Reason.UNKNOWN_KEY,
        "real jwks_uri": Reason.UNKNOWN_KEY,
    }
    assert jwks_hits(local_issuer) == 1  # the first miss fetched; the others met the cooldown


# --- parsing once, and keys that cannot verify (VER-62) ---------------------------------------------


def test_keys_are_parsed_once_per_fetch_not_per_lookup(local_issuer: LocalIssuer, clock: ManualClock) -> None:
    parsed: list[Any] = []

    def counting(document: Any) -> dict[str | None, VerificationKey]:
        parsed.append(document)
        return parse_jwks(document)

    _, verifier = remote_verifier(local_issuer, clock, parse=counting)

    for _ in range(25):
        verifier.verify(local_issuer.mint())

    assert len(parsed) == 1


def test_ver62_symmetric_and_private_jwks_entries_are_ignored_with_a_warning(
    local_issuer: LocalIssuer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    published = local_issuer.jwks()
    published["keys"] += [
        {"kty": "oct", "k": "c2hhcmVkLXNlY3JldA", "kid": "hs-key", "alg": "HS256"},
        {**SigningKey.generate("RS256").public_jwk(), "kid": "leaked", "d": "AQAB", "p": "AQAB"},
    ]
    assert local_issuer.server is not None
    local_issuer.server.routes[local_issuer.jwks_path] = Response.json(published)
    _, verifier = remote_verifier(local_issuer, clock)
    someone = SigningKey.generate("RS256")  # any signer: the kid "hs-key" must never be found
    forged = someone.sign_jwt(local_issuer.claims(), typ="at+jwt", kid="hs-key")

    assert verifier.verify(local_issuer.mint()).subject == "user-123"
    assert reason_of(verifier, forged) is Reason.UNKNOWN_KEY
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert "'hs-key'" in warnings
    assert "'leaked'" in warnings


def _without_kid(issuer: LocalIssuer) -> str:
    """A token whose header has no ``kid`` member at all, signed by the issuer's current key."""
    header = {"alg": issuer.key.alg, "typ": "at+jwt"}
    return sign_compact(header, json_dumps(issuer.claims()), issuer.key.sign)


def test_ver15_token_without_kid_needs_a_single_key_issuer(
    http_server: LocalHTTPServer, clock: ManualClock
) -> None:
    issuer = LocalIssuer(server=http_server)
    issuer.add_key()
    _, verifier = remote_verifier(issuer, clock)

    assert reason_of(verifier, _without_kid(issuer)) is Reason.UNKNOWN_KEY  # two keys: none is tried blindly
    single = LocalIssuer(server=http_server, path="/single")
    http_server.routes[single.jwks_path] = Response.json(
        {"keys": [single.key.public_jwk(include_meta=False)]}
    )
    _, single_verifier = remote_verifier(single, clock)
    assert single_verifier.verify(_without_kid(single)).subject == "user-123"


def test_failure_warnings_and_errors_never_carry_the_url_query(
    local_issuer: LocalIssuer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    keys = RemoteKeySet(f"{local_issuer.jwks_uri}?api_key=s3cr3t", clock=clock)
    local_issuer.jwks_response = Response(500, b"api_key=s3cr3t")

    with pytest.raises(TokenError) as caught:
        keys.get_key(local_issuer.key.kid)

    logged = " ".join(r.getMessage() for r in caplog.records)
    assert local_issuer.jwks_uri in logged
    assert "s3cr3t" not in logged
    assert "s3cr3t" not in str(caught.value)
    assert "s3cr3t" not in str(keys.last_error)
    local_issuer.jwks_response = None
    clock.advance(30)
    assert keys.get_key(local_issuer.key.kid).kid == local_issuer.key.kid
