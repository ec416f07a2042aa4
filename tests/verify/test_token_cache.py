"""The verified-token cache: hits skip the work, entries end at the token's exp, it can be off."""

from __future__ import annotations

import pytest

from tessera import KeySet, TokenError, Verifier
from tessera.errors import Reason
from tessera.testing import LocalIssuer
from tessera.testing.forge import claims_at
from tessera.verify.keys import VerificationKey
from tessera.verify.token_cache import TokenCache

from .conftest import NOW


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(issuer: LocalIssuer, clock: Clock, cache_size: int = 8) -> Verifier:
    return Verifier(
        issuer=issuer.issuer,
        audience="api",
        token_type="at+jwt",
        jwks=issuer.jwks(),
        cache_size=cache_size,
        clock=clock,
    )


class CountingKeys:
    """A KeySource that counts lookups."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.lookups = 0

    def get_key(self, kid: str | None) -> VerificationKey:
        self.lookups += 1
        return self.keys.get_key(kid)

    async def aget_key(self, kid: str | None) -> VerificationKey:
        return self.get_key(kid)


def test_a_repeated_token_is_served_from_the_cache_without_a_signature_check(rsa_issuer: LocalIssuer) -> None:
    keys = CountingKeys(KeySet.from_jwks(rsa_issuer.jwks()))
    verifier = Verifier(
        issuer=rsa_issuer.issuer, audience="api", token_type="at+jwt", keys=keys, clock=Clock(NOW)
    )
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    first = verifier.verify(token)

    assert verifier.verify(token) is first
    assert keys.lookups == 1


def test_cache_entries_expire_no_later_than_the_token(rsa_issuer: LocalIssuer) -> None:
    clock = Clock(NOW)
    verifier = _verifier(rsa_issuer, clock)
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW, exp=NOW + 100))
    verifier.verify(token)

    clock.now = NOW + 99
    assert verifier.verify(token).subject == "user-123"
    clock.now = NOW + 161  # past exp and the 60 s leeway: the cache must not answer
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason is Reason.EXPIRED


def test_rejections_are_never_cached(rsa_issuer: LocalIssuer) -> None:
    clock = Clock(NOW)
    verifier = _verifier(rsa_issuer, clock)
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW, nbf=NOW + 120))
    with pytest.raises(TokenError):
        verifier.verify(token)
    clock.now = NOW + 90
    assert verifier.verify(token).subject == "user-123"


def test_the_cache_is_bounded_lru_and_can_be_turned_off(rsa_issuer: LocalIssuer) -> None:
    cache: TokenCache[str] = TokenCache(2)
    for name in ("a", "b"):
        cache.put(name.encode(), name, NOW + 10)
    assert cache.get(b"a", NOW) == "a"
    cache.put(b"c", "c", NOW + 10)
    assert cache.get(b"b", NOW) is None
    assert cache.get(b"a", NOW) == "a"
    assert len(cache) == 2

    clock = Clock(NOW)
    uncached = _verifier(rsa_issuer, clock, cache_size=0)
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    assert uncached.verify(token) is not uncached.verify(token)


def test_a_cache_hit_still_enforces_the_size_limit(rsa_issuer: LocalIssuer) -> None:
    verifier = _verifier(rsa_issuer, Clock(NOW))
    with pytest.raises(TokenError) as caught:
        verifier.verify("a" * 9000)
    assert caught.value.reason is Reason.TOO_LARGE


async def test_averify_shares_the_same_rules_and_cache(rsa_issuer: LocalIssuer) -> None:
    verifier = _verifier(rsa_issuer, Clock(NOW))
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    claims = await verifier.averify(token)
    assert verifier.verify(token) is claims
    head, payload, signature = token.split(".")
    with pytest.raises(TokenError) as caught:
        await verifier.averify(f"{head}.{payload}.{signature[::-1]}")
    assert caught.value.reason in {Reason.BAD_SIGNATURE, Reason.MALFORMED}


def test_ver03_a_cached_token_with_another_signature_is_verified_in_full(rsa_issuer: LocalIssuer) -> None:
    keys = CountingKeys(KeySet.from_jwks(rsa_issuer.jwks()))
    verifier = Verifier(
        issuer=rsa_issuer.issuer, audience="api", token_type="at+jwt", keys=keys, clock=Clock(NOW)
    )
    genuine = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    other = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW, sub="mallory"))
    first = verifier.verify(genuine)
    head, payload, _ = genuine.split(".")
    swapped = f"{head}.{payload}.{other.rsplit('.', 1)[1]}"

    with pytest.raises(TokenError) as caught:
        verifier.verify(swapped)
    assert caught.value.reason is Reason.BAD_SIGNATURE
    assert keys.lookups == 2  # the swapped token went to the signature check, not the cache
    assert verifier.verify(genuine) is first
    assert keys.lookups == 2


def test_the_cache_answers_an_equal_token_whatever_object_carries_it(rsa_issuer: LocalIssuer) -> None:
    verifier = _verifier(rsa_issuer, Clock(NOW))
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    first = verifier.verify(token)

    assert verifier.verify("".join(list(token))) is first
    as_bytes = verifier.verify(token.encode("ascii"))
    assert as_bytes is not first and as_bytes.subject == first.subject
    assert verifier.verify(token.encode("ascii")) is as_bytes


class CollidingToken(str):
    """A token whose hash is the same as every other one's: only equality tells them apart."""

    __slots__ = ()

    def __hash__(self) -> int:
        return 1


def test_ver03_tokens_with_equal_hashes_are_told_apart_by_the_whole_token() -> None:
    cache: TokenCache[str] = TokenCache(4)
    cache.put(CollidingToken("a.b.genuine"), "genuine", NOW + 10)

    assert cache.get(CollidingToken("a.b.forged"), NOW) is None
    assert cache.get(CollidingToken("a.b.genuine"), NOW) == "genuine"
