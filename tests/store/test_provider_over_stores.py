"""The provider end to end on every store, as two instances sharing it (two function instances).

Code + PKCE, refresh rotation, client_credentials and revocation run over SQLite, PostgreSQL and
DynamoDB (and Redis beside each network database); then the races, spread over both instances,
each request on a client of its own: fifty concurrent redemptions of one code, fifty concurrent
refreshes of one token, fifty wrong codes against one sign-in's attempt counter, fifty sign-in
requests against one address's rate limit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from tessera.keys.sealing import MasterKey
from tessera.store import Store, secret_hash
from tessera.store.url import open_store
from tessera.testing.idp import SVC_SECRET, WEB_SECRET, FakeClock, ProviderHarness
from tessera.testing.signin import code_in, newest_mail_id

RACERS = 50


@dataclass
class Instances:
    """Two providers on one store, one clock and one master key (sign-ins go through ``first``)."""

    first: ProviderHarness
    second: ProviderHarness
    stores: list[Store]

    def either(self, i: int) -> ProviderHarness:
        return self.first if i % 2 else self.second


@pytest.fixture(params=["sqlite", "postgresql", "dynamodb", "postgresql+redis", "dynamodb+redis"])
def instances(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instances]:
    from .conftest import fresh_store_url

    kind, _, cache = str(request.param).partition("+")
    url = fresh_store_url(kind, request, tmp_path)
    cache_url = request.getfixturevalue("redis_url") if cache else None
    if cache_url:
        import redis

        redis.Redis.from_url(cache_url).flushdb()
    stores = [open_store(url, cache_url), open_store(url, cache_url)]
    clock, master = FakeClock(), MasterKey.generate()
    first = ProviderHarness(tmp_path / "a", store=stores[0], clock=clock, master=master)
    second = ProviderHarness(tmp_path / "b", store=stores[1], clock=clock, master=master)
    second.provider.outgoing.stop()  # one mail sender, so sign-in mail lands in ``first``'s outbox
    yield Instances(first, second, stores)
    first.close()
    second.close()


def _introspect(
    idp: ProviderHarness, token: str, caller: tuple[str, str] = ("web", WEB_SECRET)
) -> dict[str, Any]:
    response = idp.new_browser().post("/introspect", data={"token": token}, auth=caller)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_code_pkce_refresh_client_credentials_and_revoke(instances: Instances) -> None:
    one, two = instances.first, instances.second
    tokens = one.tokens("web")
    assert _introspect(two, tokens["access_token"])["active"] is True
    refreshed = two.refresh(tokens["refresh_token"], "web")
    assert refreshed.status_code == 200, refreshed.text
    assert _introspect(one, tokens["access_token"])["active"] is False  # rotation revoked it
    newer = refreshed.json()
    assert _introspect(one, newer["access_token"])["active"] is True
    service = one.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
    assert service.status_code == 200, service.text
    service_token = service.json()["access_token"]
    service_caller = ("svc", SVC_SECRET)
    assert _introspect(two, service_token, service_caller)["active"] is True
    revoked = two.new_browser().post("/revoke", data={"token": service_token}, auth=service_caller)
    assert revoked.status_code == 200
    assert _introspect(one, service_token, service_caller)["active"] is False
    web = ("web", WEB_SECRET)
    assert (
        one.new_browser().post("/revoke", data={"token": newer["refresh_token"]}, auth=web).status_code == 200
    )
    assert _introspect(two, newer["access_token"])["active"] is False
    assert one.refresh(newer["refresh_token"], "web").status_code == 400


def test_fifty_concurrent_redemptions_of_one_code_one_succeeds(instances: Instances) -> None:
    code, verifier, params = instances.first.code("web")

    def redeem(i: int) -> httpx.Response:
        return instances.either(i).exchange(code, verifier, "web", params["redirect_uri"])

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        responses = list(pool.map(redeem, range(RACERS)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * (RACERS - 1)
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    # A replayed code revokes what it issued (RFC 6749 §4.1.2): the one family, everywhere.
    assert instances.second.refresh(winner["refresh_token"], "web").status_code == 400
    assert _introspect(instances.first, winner["access_token"])["active"] is False


def test_fifty_concurrent_refreshes_one_successor_then_replay_revokes_the_family(
    instances: Instances,
) -> None:
    tokens = instances.first.tokens("web")
    original = tokens["refresh_token"]

    def refresh(i: int) -> httpx.Response:
        return instances.either(i).refresh(original, "web")

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        responses = list(pool.map(refresh, range(RACERS)))
    winners = [r.json() for r in responses if r.status_code == 200]
    assert len(winners) == 1
    losers = [r.json() for r in responses if r.status_code != 200]
    assert {(r["error"], r["error_description"]) for r in losers} == {
        ("invalid_grant", "the refresh token was just rotated; use its successor")
    }
    successor = winners[0]["refresh_token"]
    grant_id = instances.stores[0].get_refresh(secret_hash(original))
    assert grant_id is not None
    family = instances.stores[1].get_refresh(secret_hash(successor))
    assert family is not None and family.grant_id == grant_id.grant_id  # one family, never two
    within_grace = instances.second.refresh(original, "web")
    assert within_grace.json()["error_description"] == "the refresh token was just rotated; use its successor"
    live = instances.first.refresh(successor, "web")
    assert live.status_code == 200, live.text
    latest = live.json()
    instances.first.clock.advance(11)  # past refresh_grace_seconds (10)
    replay = instances.second.refresh(original, "web")
    assert replay.json() == {"error": "invalid_grant", "error_description": "the refresh token is invalid"}
    for idp in (instances.first, instances.second):
        assert idp.refresh(latest["refresh_token"], "web").status_code == 400
        assert _introspect(idp, latest["access_token"])["active"] is False


def test_an_expired_code_is_refused_on_every_instance(instances: Instances) -> None:
    code, verifier, params = instances.first.code()
    instances.first.clock.advance(61)
    for idp in (instances.first, instances.second):
        refused = idp.exchange(code, verifier, "spa", params["redirect_uri"])
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    fresh, verifier, params = instances.first.code()
    assert instances.first.exchange(fresh, verifier, "spa", params["redirect_uri"]).status_code == 200


_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def _fields(page: httpx.Response) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}


def _cookie_header(browser: TestClient) -> dict[str, str]:
    """The browser's cookies as a header, for other clients to send as the same browser."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in browser.cookies.items())}


def test_no_lost_update_on_one_addresses_sign_in_rate_limit(instances: Instances) -> None:
    limit = instances.first.provider.settings.sign_in_requests_per_minute_per_address
    browser = instances.first.new_browser()
    fields = _fields(browser.get("/signin"))
    cookies = _cookie_header(browser)

    def ask(i: int) -> int:
        sender = instances.either(i).new_browser(peer="10.9.9.9")  # one address, many connections
        form = {**fields, "email": f"nobody{i}@example.com"}
        return sender.post("/signin", data=form, headers=cookies).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(ask, range(RACERS)))
    assert sorted(statuses) == [303] * limit + [429] * (RACERS - limit)


def test_no_lost_update_on_one_sign_ins_attempt_counter(instances: Instances) -> None:
    one = instances.first
    browser = one.new_browser()
    before = newest_mail_id(one.outbox.messages())
    asked = browser.post("/signin", data={**_fields(browser.get("/signin")), "email": "alice@example.com"})
    assert asked.status_code == 303, asked.text
    code = code_in(one.wait_for_mail("alice@example.com", after=before))
    code_page = _fields(browser.get(asked.headers["location"]))
    cookies = _cookie_header(browser)
    wrong = f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"

    def guess(i: int) -> int:
        guesser = instances.either(i).new_browser(peer=f"10.8.{i // 200}.{i % 200 + 1}")
        return guesser.post("/signin/code", data={**code_page, "code": wrong}, headers=cookies).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(guess, range(RACERS)))
    assert set(statuses) == {400}
    # Five attempts per challenge: were any of the fifty lost, the right code would still work.
    right = instances.second.new_browser(peer="10.7.0.1")
    late = right.post("/signin/code", data={**code_page, "code": code}, headers=cookies)
    assert late.status_code == 400 and "That code is not valid" in late.text
    one.clock.advance(31)  # past the resend throttle
    fresh_before = newest_mail_id(one.outbox.messages())
    again = browser.post("/signin", data={**code_page, "email": "alice@example.com"})
    assert again.status_code == 303, again.text
    fresh = code_in(one.wait_for_mail("alice@example.com", after=fresh_before))
    signed = browser.post("/signin/code", data={**code_page, "code": fresh})
    assert signed.status_code == 303, signed.text  # a genuine code of a live challenge is accepted
