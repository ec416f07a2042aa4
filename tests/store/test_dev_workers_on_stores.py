"""``tessera dev --workers 4`` on one store (``TESSERA_STORE``): four provider processes race.

On SQLite, PostgreSQL and DynamoDB, and with Redis beside each network database, fifty
concurrent clients hit the provider over real connections, spread by the kernel over the four
worker processes, each with its own connections: one code is redeemed once; one refresh token
has one successor and the others get the grace answer, in one family; replayed after the grace
window it revokes the family on every worker; one address's sign-in rate limit and one
sign-in's attempt counter lose no update; client_credentials never fails.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest

from tessera.store import secret_hash
from tessera.store.url import open_store
from tessera.testing.devserver import DevServer, free_port
from tessera.testing.signin import code_in, newest_mail_id, sign_in_via_outbox, wait_for_mail

from .conftest import fresh_store_url

SERVICE_SECRET = "dev-service-secret-" + "w" * 32
RACERS = 50
GRACE_SECONDS = 10  # tessera dev's refresh_grace_seconds (the ProviderSettings default)
SIGN_IN_LIMIT = 30  # its sign_in_requests_per_minute_per_address
JUST_ROTATED = "the refresh token was just rotated; use its successor"
INVALID = "the refresh token is invalid"
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
T = TypeVar("T")


class Workers:
    """The running server and the URL of the store its four processes share."""

    def __init__(self, server: DevServer, store_url: str) -> None:
        self.server = server
        self.store_url = store_url
        self.issuer = server.issuer


@pytest.fixture(params=["sqlite", "postgresql", "dynamodb", "postgresql+redis", "dynamodb+redis"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workers]:
    kind, _, cache = str(request.param).partition("+")
    url = fresh_store_url(kind, request, tmp_path)
    env = {"TESSERA_STORE": url, "TESSERA_DEV_SERVICE_SECRET": SERVICE_SECRET}
    if cache:
        import redis

        cache_url: str = request.getfixturevalue("redis_url")
        redis.Redis.from_url(cache_url).flushdb()
        env["TESSERA_STORE_CACHE"] = cache_url
    server = DevServer(
        users=["alice@example.com"], data=tmp_path / "dev", env=env, workers=4, ready_timeout_seconds=120
    )
    with server as running:
        assert "(store from TESSERA_STORE)" in running.output()
        yield Workers(running, url)


def _all(count: int, send: Callable[[int], T]) -> list[T]:
    """``send(i)`` for each ``i`` at once, on threads."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


def _client(source: str = "127.0.0.1") -> httpx.Client:
    """A client of its own (its own connection) from loopback address ``source``."""
    return httpx.Client(timeout=60, transport=httpx.HTTPTransport(local_address=source))


def _send(method: str, url: str, source: str = "127.0.0.1", **kwargs: Any) -> httpx.Response:
    """One request on a connection of its own from ``source``.

    On a loaded machine a worker may reach a new connection after the provider's header
    deadline (10 s from its opening) and close it unread: that request was never handled, so
    it is sent again.
    """
    for _ in range(3):
        with _client(source) as client:
            try:
                return client.request(method, url, **kwargs)
            except httpx.RemoteProtocolError:
                continue
    raise AssertionError(f"{url}: three connections closed unanswered")


def _post_all(
    workers: Workers, path: str, forms: list[dict[str, str]], **kwargs: Any
) -> list[httpx.Response]:
    """Each form POSTed to ``path`` at once, each on a connection of its own."""
    return _all(len(forms), lambda i: _send("POST", f"{workers.issuer}{path}", data=forms[i], **kwargs))


def _code(workers: Workers, browser: httpx.Client) -> tuple[str, str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    params = {
        "client_id": "dev-spa",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid offline_access",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    callback = sign_in_via_outbox(
        browser, f"{workers.issuer}/authorize?{urlencode(params)}", "alice@example.com", issuer=workers.issuer
    )
    return httpx.URL(callback).params["code"], verifier, redirect_uri


def _redeem_form(workers: Workers) -> dict[str, str]:
    with _client() as browser:
        code, verifier, redirect_uri = _code(workers, browser)
    return {
        "grant_type": "authorization_code",
        "client_id": "dev-spa",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": redirect_uri,
    }


def _refresh_form(refresh_token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "client_id": "dev-spa", "refresh_token": refresh_token}


def test_four_workers_redeem_once_rotate_once_revoke_everywhere_and_count_exactly(workers: Workers) -> None:
    services = _post_all(
        workers,
        "/token",
        [{"grant_type": "client_credentials"}] * RACERS,
        auth=("dev-service", SERVICE_SECRET),
    )
    assert [r.status_code for r in services] == [200] * RACERS
    _one_redemption_of_one_code(workers)
    _one_family_and_a_late_replay_revokes_it_on_every_worker(workers)
    _no_lost_update_on_one_addresses_rate_limit(workers)
    _no_lost_update_on_one_sign_ins_attempt_counter(workers)


def _one_redemption_of_one_code(workers: Workers) -> None:
    redemptions = _post_all(workers, "/token", [_redeem_form(workers)] * RACERS)
    assert sorted(r.status_code for r in redemptions) == [200] + [400] * (RACERS - 1)


def _one_family_and_a_late_replay_revokes_it_on_every_worker(workers: Workers) -> None:
    tokens = httpx.post(f"{workers.issuer}/token", data=_redeem_form(workers)).json()
    original = tokens["refresh_token"]
    started = time.monotonic()
    refreshes = _post_all(workers, "/token", [_refresh_form(original)] * RACERS)
    rotated_by = time.monotonic()
    winners = [r.json() for r in refreshes if r.status_code == 200]
    assert len(winners) == 1
    answers = {r.json()["error_description"] for r in refreshes if r.status_code != 200}
    store = open_store(workers.store_url)
    try:
        first, second = (store.get_refresh(secret_hash(t)) for t in (original, winners[0]["refresh_token"]))
        assert first is not None and second is not None and first.grant_id == second.grant_id  # one family
    finally:
        store.close()
    if INVALID in answers:
        # A loser handled past the grace window is a replay: as documented, it revoked the family.
        # Only a burst that outlasted the window (a loaded machine) can see that.
        assert answers <= {JUST_ROTATED, INVALID} and rotated_by - started > GRACE_SECONDS
        family = winners[0]
    else:
        assert answers == {JUST_ROTATED}
        live = httpx.post(f"{workers.issuer}/token", data=_refresh_form(winners[0]["refresh_token"]))
        assert live.status_code == 200, live.text
        family = live.json()
        time.sleep(max(0.0, rotated_by + GRACE_SECONDS + 1.5 - time.monotonic()))
        replay = httpx.post(f"{workers.issuer}/token", data=_refresh_form(original))
        assert replay.json() == {"error": "invalid_grant", "error_description": INVALID}
    refused = _post_all(workers, "/token", [_refresh_form(family["refresh_token"])] * 20)
    assert [r.status_code for r in refused] == [400] * 20
    bearer = {"Authorization": f"Bearer {family['access_token']}"}

    def userinfo(_: int) -> int:
        return _send("GET", f"{workers.issuer}/userinfo", headers=bearer).status_code

    assert _all(20, userinfo) == [401] * 20  # the family's access token too, whichever worker answers


def _hidden(page: httpx.Response) -> dict[str, str]:
    return dict(_HIDDEN.findall(page.text))


def _wait_clear_of_a_minute_boundary(seconds: float) -> int:
    """Rate limits count in fixed minutes: wait until ``seconds`` are left in one; its number."""
    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.2)
    return int(time.time() // 60)


def _no_lost_update_on_one_addresses_rate_limit(workers: Workers) -> None:
    with _client() as browser:
        fields = _hidden(browser.get(f"{workers.issuer}/signin"))
        cookies = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    for attempt in range(3):  # an address the earlier sign-ins did not use, fresh for each try
        source = f"127.0.0.{10 + attempt}"

        def ask(i: int, source: str = source) -> int:
            form = {**fields, "email": f"nobody{i}@example.com"}
            return _send("POST", f"{workers.issuer}/signin", source, data=form, headers=cookies).status_code

        minute = _wait_clear_of_a_minute_boundary(45)
        statuses = _all(RACERS, ask)
        if int(time.time() // 60) == minute:  # every hit counted in one window
            assert sorted(statuses) == [303] * SIGN_IN_LIMIT + [429] * (RACERS - SIGN_IN_LIMIT)
            return
    pytest.fail("no burst of fifty sign-ins fitted in one minute")


def _no_lost_update_on_one_sign_ins_attempt_counter(workers: Workers) -> None:
    issuer = workers.issuer

    def outbox() -> list[dict[str, Any]]:
        mails: list[dict[str, Any]] = httpx.get(f"{issuer}/dev/outbox").json()
        return mails

    with _client("127.0.0.3") as browser:
        before = newest_mail_id(outbox())
        asked = browser.post(
            f"{issuer}/signin",
            data={**_hidden(browser.get(f"{issuer}/signin")), "email": "alice@example.com"},
        )
        assert asked.status_code == 303, asked.text
        code_page = _hidden(browser.get(f"{issuer}{asked.headers['location']}"))
        cookies = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    code = code_in(wait_for_mail(outbox, "alice@example.com", after=before))
    wrong = f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"

    def guess(i: int) -> int:
        form = {**code_page, "code": wrong}
        return _send(
            "POST", f"{issuer}/signin/code", f"127.0.1.{i + 1}", data=form, headers=cookies
        ).status_code

    assert set(_all(RACERS, guess)) == {400}
    # Five attempts per challenge: were any of the fifty lost, the right code would still work.
    form = {**code_page, "code": code}
    right = _send("POST", f"{issuer}/signin/code", "127.0.2.1", data=form, headers=cookies)
    assert right.status_code == 400 and "That code is not valid" in right.text
