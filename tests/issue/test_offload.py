"""No store call runs on the event loop (issue 12): the endpoints hand their store work to a thread."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tessera.issue.offload import WORKER_THREADS, off_loop
from tessera.store import Store
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import ISSUER, SVC_SECRET, WEB_SECRET, ProviderHarness, query_of

_STORE_METHODS = frozenset(n for n in dir(Store) if not n.startswith("_") and callable(getattr(Store, n)))


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class LoopWatchingStore(SQLiteStore):
    """A SQLite store that records each call, and which of them ran on an event loop's thread."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[str] = []
        self.on_loop: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        attr = object.__getattribute__(self, name)
        if name not in _STORE_METHODS:
            return attr
        calls: list[str] = object.__getattribute__(self, "calls")
        on_loop: list[str] = object.__getattribute__(self, "on_loop")

        def watched(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            if _on_event_loop():
                on_loop.append(name)
            return attr(*args, **kwargs)

        return watched


class HeldClientStore(SQLiteStore):
    """A SQLite store whose ``get_client`` waits (up to 2 s) for ``release`` once ``hold`` is set.

    ``left`` is set when that call returns.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.hold = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self.left = threading.Event()

    def get_client(self, client_id: str) -> Any:
        if self.hold:
            self.entered.set()
            self.release.wait(2)
            self.left.set()
        return super().get_client(client_id)


def test_no_endpoint_calls_the_store_on_the_event_loop(tmp_path: Path) -> None:
    store = LoopWatchingStore(tmp_path / "tessera.db")
    idp = ProviderHarness(tmp_path, store=store)
    store.calls.clear()
    tokens = idp.tokens("web")  # authorize, sign-in pages and posts, authorize/continue, code grant
    refreshed = idp.refresh(tokens["refresh_token"], "web")
    assert refreshed.status_code == 200
    access = refreshed.json()["access_token"]
    assert (
        idp.new_browser().get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    )
    assert idp.introspect(access)["active"] is True
    service = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
    assert service.status_code == 200
    page = idp.consent_page(idp.authorize_params("partner"))
    assert page.status_code == 200
    assert query_of(idp.decide(page, "approve").headers["location"]).keys() >= {"code"}
    assert idp.new_browser().get("/jwks").json()["keys"]
    assert idp.new_browser().get("/.well-known/openid-configuration").status_code == 200
    logout = idp.browser.get("/logout", params={"client_id": "spa"})
    assert logout.status_code == 200
    revoked = idp.new_browser().post(
        "/revoke", data={"token": refreshed.json()["refresh_token"]}, auth=("web", WEB_SECRET)
    )
    assert revoked.status_code == 200
    assert {"get_client", "get_refresh", "rotate_refresh", "get_user", "revoke_grant"} <= set(store.calls)
    assert store.on_loop == []
    idp.close()


def test_a_slow_store_call_does_not_hold_up_other_requests(tmp_path: Path) -> None:
    store = HeldClientStore(tmp_path / "tessera.db")
    idp = ProviderHarness(tmp_path, store=store)
    store.hold = True

    async def race() -> tuple[int, bool, int]:
        transport = httpx.ASGITransport(app=idp.app)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            token = asyncio.create_task(
                client.post("/token", data={"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
            )
            await asyncio.to_thread(store.entered.wait, 2)
            jwks = await client.get("/jwks")
            token_waiting = not store.left.is_set()
            store.release.set()
            return jwks.status_code, token_waiting, (await token).status_code

    jwks_status, token_waiting, token_status = asyncio.run(race())
    assert jwks_status == 200
    assert token_waiting  # /jwks answered while /token's store call was still blocked in its thread
    assert token_status == 200
    idp.close()


class _Settings:
    work_in_thread = True


class _Provider:
    settings = _Settings()


_REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")


def _describe(suffix: str) -> tuple[str, bool, str]:
    return _REQUEST.get() + suffix, _on_event_loop(), threading.current_thread().name


def _refuse() -> None:
    raise LookupError("no such row")


def test_off_loop_runs_the_work_on_a_worker_thread_in_the_callers_context() -> None:
    async def request() -> tuple[str, bool, str]:
        _REQUEST.set("req-1")
        return await off_loop(_Provider(), _describe, "!")  # type: ignore[arg-type]

    seen, on_loop, thread = asyncio.run(request())
    assert seen == "req-1!"
    assert not on_loop
    assert thread != threading.current_thread().name


def test_off_loop_raises_the_works_error_in_the_caller() -> None:
    async def request() -> None:
        await off_loop(_Provider(), _refuse)  # type: ignore[arg-type]

    with pytest.raises(LookupError, match="no such row"):
        asyncio.run(request())


def test_off_loop_survives_callers_that_gave_up_or_whose_loop_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    crashed: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)

    def slow() -> str:
        started.set()
        release.wait(5)
        return "late"

    async def abandon() -> None:
        task = asyncio.ensure_future(off_loop(_Provider(), slow))  # type: ignore[arg-type]
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(abandon())  # the loop is closed before the work ends
    release.set()

    async def later() -> tuple[str, bool, str]:
        return await off_loop(_Provider(), _describe, "?")  # type: ignore[arg-type]

    for _ in range(3 * WORKER_THREADS):  # every worker still serves
        assert asyncio.run(later())[0] == "none?"
    assert crashed == []


def test_off_loop_runs_inline_without_work_in_thread() -> None:
    class Inline:
        class settings:  # noqa: N801
            work_in_thread = False

    async def request() -> tuple[str, bool, str]:
        return await off_loop(Inline(), _describe, "")  # type: ignore[arg-type]

    assert asyncio.run(request())[1] is True
