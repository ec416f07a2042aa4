"""No store call runs on the event loop (issue 12): every route hands its store work to a thread.

One test drives every route of the app (the dev pages and the demo API included) through its
genuine flow: email code (and its resend), magic link, SMS code (and its resend), passkeys made
and used by a software authenticator, an authenticator app enrolled and used, the account page,
consent, tokens, logout, the static assets, and sign-in, linking and unlinking with an upstream
provider (a fake one on real HTTP). A store that notes each call made on an event loop's thread
must end with none, so must the client that talks to the upstream (and the JWKS fetcher that
reads its keys), and every route must have been requested.
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pyotp
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from tessera.issue.dev.pages import DEV_CALLBACK_PATH, DEV_CLIENT_ID
from tessera.issue.offload import WORKER_THREADS, off_loop
from tessera.issue.signin.federation.http import UrllibUpstreamHTTP
from tessera.store import ClientRecord, FederatedStore, User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import SVC_SECRET, WEB_SECRET, ProviderHarness, query_of
from tessera.testing.issuer import LocalIssuer
from tessera.testing.signin import newest_mail_id, run_sign_in, wait_for_mail
from tessera.testing.upstream import FakeUpstream
from tessera.verify.fetch import FetchResult, UrllibFetcher

from ..passwordless.soft_authenticator import SoftAuthenticator
from .signin.federation.harness import SECRET, Walk, configure, oidc_entry
from .totp_steps import now_code, submit_totp

ISSUER = "http://localhost:8000"  # a host name: WebAuthn's relying party id cannot be an address
CAROL_PHONE = "+447400123456"
SAME_ORIGIN = {"Origin": ISSUER}
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'

_STORE_METHODS = frozenset(
    n for n in dir(FederatedStore) if not n.startswith("_") and callable(getattr(FederatedStore, n))
)
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
_LINK = re.compile(r"(http\S+/signin/link\?\S+)")
_SMS_CODE = re.compile(r"sign-in code is ([0-9]{6}|[0-9]{12})\b")


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


class LoopWatchingHTTP:
    """The client that talks to upstreams, recording each exchange and which of them ran on an event loop."""

    def __init__(self) -> None:
        self.client = UrllibUpstreamHTTP()
        self.calls: list[str] = []
        self.on_loop: list[str] = []

    def note(self, method: str, url: str) -> None:
        """Record one exchange (and whether it blocks an event loop)."""
        call = f"{method} {urlsplit(url).path}"
        self.calls.append(call)
        if _on_event_loop():
            self.on_loop.append(call)

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], form: Mapping[str, str] | None = None
    ) -> FetchResult:
        """The exchange, by the standard client, once recorded."""
        self.note(method, url)
        return self.client.request(method, url, headers=headers, form=form)


class RequestLog:
    """An ASGI wrapper noting the method and path of every HTTP request the app is sent."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.routes = app.routes
        self.seen: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.add((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def _routes(routes: list[BaseRoute]) -> Iterator[Route]:
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(route.routes)
        elif isinstance(route, Route):
            yield route


def _unrequested(routes: list[BaseRoute], seen: set[tuple[str, str]]) -> list[str]:
    """Every (method, route) of the app that no request in ``seen`` reached."""
    missed = []
    for route in _routes(routes):
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            reached = any(
                m == method and route.matches({"type": "http", "path": p, "method": m})[0] is Match.FULL
                for m, p in seen
            )
            if not reached:
                missed.append(f"{method} {route.path}")
    return missed


Watched = tuple[ProviderHarness, LoopWatchingStore, LoopWatchingHTTP, FakeUpstream, RequestLog]


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_jwks_registry: None) -> Iterator[Watched]:
    """The provider on a watching store, with two upstreams (one answering by ``form_post``) on a
    fake on real HTTP, reached through a watching client; JWKS fetches are watched too."""
    store = LoopWatchingStore(tmp_path / "tessera.db")
    logo = tmp_path / "logo.svg"
    logo.write_text(LOGO)
    idp = ProviderHarness(tmp_path, issuer=ISSUER, store=store, logo=str(logo))
    store.put_user(User("usr_carol", "carol@example.com", True, "Carol", (), phone=CAROL_PHONE))
    store.put_client(
        ClientRecord(
            client_id=DEV_CLIENT_ID,
            redirect_uris=(ISSUER + DEV_CALLBACK_PATH,),
            scopes=("openid", "profile", "email", "offline_access", "demo:read"),
        )
    )
    http = LoopWatchingHTTP()
    fetch = UrllibFetcher.fetch

    def watched_fetch(
        fetcher: UrllibFetcher, url: str, *, timeout_seconds: float, max_bytes: int
    ) -> FetchResult:
        http.note("JWKS", url)
        return fetch(fetcher, url, timeout_seconds=timeout_seconds, max_bytes=max_bytes)

    monkeypatch.setattr(UrllibFetcher, "fetch", watched_fetch)
    fake = FakeUpstream(LocalIssuer(), clock=idp.clock).start()
    fake.register("tessera", SECRET, *(f"{ISSUER}/upstream/{u}/callback" for u in ("corp", "other")))
    configure(idp, oidc_entry(fake), oidc_entry(fake, "other"), http=http)
    upstreams = idp.provider.federation.upstreams
    upstreams["other"] = replace(upstreams["other"], response_mode="form_post")  # as Apple answers
    log = RequestLog(idp.app)
    idp.app = log  # type: ignore[assignment]  # the harness's browsers now go through the log
    idp.browser = idp.new_browser()
    store.calls.clear()
    yield idp, store, http, fake, log
    fake.stop()
    idp.close()


def _hidden(page: Any) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}


def _section(page: Any, section: str) -> dict[str, str]:
    tag = re.search(rf'<section id="{section}"([^>]*)>', page.text)
    assert tag is not None, f"no {section} section"
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(1))}


def _json_post(browser: TestClient, url: str, body: dict[str, Any]) -> Any:
    return browser.post(url, json=body, headers=SAME_ORIGIN)


def _oauth_endpoints(idp: ProviderHarness) -> None:
    """authorize, the email-code sign-in, code and refresh grants, userinfo, introspection, consent,
    revocation, discovery, client_credentials and logout."""
    tokens = idp.tokens("web")
    refreshed = idp.refresh(tokens["refresh_token"], "web")
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    assert idp.new_browser().get("/userinfo", headers=bearer).status_code == 200
    assert idp.new_browser().post("/userinfo", headers=bearer).status_code == 200
    assert idp.introspect(access)["active"] is True
    assert idp.hello(access).status_code == 200
    assert idp.new_browser().get("/demo/admin", headers=bearer).status_code == 200  # alice is an admin
    service = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
    assert service.status_code == 200, service.text
    consent = idp.consent_page(idp.authorize_params("partner"))
    assert consent.status_code == 200
    assert "code" in query_of(idp.decide(consent, "approve").headers["location"])
    for document in ("/jwks", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        assert idp.new_browser().get(document).status_code == 200
    revoked = idp.new_browser().post(
        "/revoke", data={"token": refreshed.json()["refresh_token"]}, auth=("web", WEB_SECRET)
    )
    assert revoked.status_code == 200
    assert idp.new_browser().post("/introspect", data={"token": access}, auth=("web", WEB_SECRET)).json() == {
        "active": False
    }
    confirm = idp.browser.get("/logout", params={"client_id": "spa"})
    assert confirm.status_code == 200
    signed_out = idp.browser.post("/logout", data=_hidden(confirm))
    assert signed_out.status_code == 200, signed_out.text
    assert idp.browser.get("/account").status_code == 303  # the session ended


def _passkeys(idp: ProviderHarness) -> None:
    """The account page: add, rename and remove a passkey; sign in with it from another browser."""
    device = SoftAuthenticator(ISSUER)
    browser = idp.new_browser()
    idp.clock.advance(31)
    account = run_sign_in(browser, f"{ISSUER}/signin?then=account", "bob@example.com", issuer=ISSUER)
    assert account.status_code == 200 and str(account.url).endswith("/account")
    adding = _section(account, "passkey-add")
    options = _json_post(browser, adding["options"], {"csrf": adding["csrf"]})
    assert options.status_code == 200, options.text
    made = device.create(options.json())
    added = _json_post(
        browser, adding["verify"], {"csrf": adding["csrf"], "name": "Laptop", "credential": made}
    )
    assert added.json() == {"redirect": "/account"}, added.text
    forms = {action: fields for action, fields in _forms(browser.get("/account").text)}
    renamed = browser.post(
        "/account/passkeys/rename", data={**forms["/account/passkeys/rename"], "name": "Key"}
    )
    assert renamed.status_code == 303
    assert "<strong>Key</strong>" in browser.get("/account").text

    other = idp.new_browser()
    signing = _section(other.get("/signin"), "passkey-signin")
    request_options = _json_post(other, signing["options"], {"csrf": signing["csrf"]})
    assert request_options.status_code == 200, request_options.text
    assertion = device.get(request_options.json())
    body = {"csrf": signing["csrf"], "request": "", "then": "", "credential": assertion}
    signed = _json_post(other, signing["verify"], body)
    assert signed.json() == {"redirect": "/signin/done"}, signed.text
    assert other.get("/signin/done").status_code == 200
    assert "bob@example.com" in other.get("/account").text

    removed = browser.post("/account/passkeys/remove", data=forms["/account/passkeys/remove"])
    assert removed.status_code == 303
    assert "You have no passkeys yet" in browser.get("/account").text
    script = browser.get("/static/passkeys.js")
    assert script.status_code == 200 and "navigator.credentials" in script.text


def _forms(page: str) -> list[tuple[str, dict[str, str]]]:
    found = re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    return [(action, dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', inner))) for action, inner in found]


def _magic_link(idp: ProviderHarness) -> None:
    """The link in the code mail: landed (token parked, URL scrubbed), then confirmed by POST."""
    browser = idp.new_browser()
    idp.clock.advance(31)
    start = idp.authorize(idp.authorize_params(), browser)
    email_page = browser.get(start.headers["location"])
    before = newest_mail_id(idp.outbox.messages())
    posted = browser.post("/signin", data={**_hidden(email_page), "email": "alice@example.com"})
    assert posted.status_code == 303, posted.text
    link = _LINK.search(str(idp.wait_for_mail("alice@example.com", after=before)["text"]))
    assert link is not None
    landed = browser.get(link.group(1))
    assert landed.status_code == 303 and "token" not in landed.headers["location"]
    confirm = browser.get(landed.headers["location"])
    assert confirm.status_code == 200, confirm.text
    done = browser.post("/signin/link", data=_hidden(confirm))
    assert done.status_code == 303, done.text
    resumed = browser.get(done.headers["location"])
    assert "code" in query_of(resumed.headers["location"])


def _sms(idp: ProviderHarness) -> None:
    """The phone form, the texted code, a new session, the authorization request resumed."""
    browser = idp.new_browser()
    idp.clock.advance(31)
    start = idp.authorize(idp.authorize_params(), browser)
    request_id = query_of(start.headers["location"])["request"]
    phone_page = browser.get("/signin/phone", params={"request": request_id})
    assert phone_page.status_code == 200
    before = newest_mail_id(idp.outbox.messages())
    asked = browser.post("/signin/phone", data={**_hidden(phone_page), "phone": CAROL_PHONE})
    assert asked.status_code == 303, asked.text
    text = wait_for_mail(idp.outbox.messages, CAROL_PHONE, after=before)
    code = _SMS_CODE.search(str(text["text"]))
    assert code is not None
    code_page = browser.get(asked.headers["location"])
    assert code_page.status_code == 200
    done = browser.post("/signin/phone/code", data={**_hidden(code_page), "code": code.group(1)})
    assert done.status_code == 303, done.text
    resumed = browser.get(done.headers["location"])
    assert "code" in query_of(resumed.headers["location"])


def _dev_pages(idp: ProviderHarness) -> None:
    """``tessera dev``'s start page, its Sign in button's flow to /dev/callback, and the outbox."""
    browser = idp.new_browser()
    home = browser.get("/")
    assert home.status_code == 200 and DEV_CLIENT_ID in home.text
    login = browser.get("/dev/login")
    assert login.status_code == 303
    idp.clock.advance(31)
    shown = run_sign_in(browser, ISSUER + login.headers["location"], "alice@example.com", issuer=ISSUER)
    assert urlsplit(str(shown.url)).path == DEV_CALLBACK_PATH  # the provider's own page: followed
    assert shown.status_code == 200 and "at+jwt" in shown.text, shown.text
    assert browser.get("/dev/outbox.html").status_code == 200
    assert browser.get("/dev/outbox").json()


def _account_sessions(idp: ProviderHarness) -> None:
    """The account page's sessions and applications, then deleting the account."""
    first, second = idp.new_browser(), idp.new_browser()
    for browser in (first, second):
        idp.clock.advance(31)
        shown = run_sign_in(browser, f"{ISSUER}/signin?then=account", "alice@example.com", issuer=ISSUER)
        assert shown.status_code == 200 and str(shown.url).endswith("/account")
    forms = {action: fields for action, fields in _forms(first.get("/account").text)}
    for action in ("/account/sessions/end", "/account/sessions/end-others", "/account/applications/revoke"):
        assert first.post(action, data=forms[action]).status_code == 303, action
    confirm = first.get("/account/delete")
    assert confirm.status_code == 200
    fields = {action: fields for action, fields in _forms(confirm.text)}["/account/delete"]
    deleted = first.post("/account/delete", data={**fields, "confirm_email": "alice@example.com"})
    assert deleted.status_code == 200 and "Your account was deleted" in deleted.text
    assert idp.store.find_user_by_email("alice@example.com") is None


def _resends(idp: ProviderHarness) -> None:
    """ "Send a new code" on the email code page and on the phone code page, once the interval passed."""
    browser = idp.new_browser()
    idp.clock.advance(31)
    email_page = browser.get("/signin")
    before = newest_mail_id(idp.outbox.messages())
    asked = browser.post("/signin", data={**_hidden(email_page), "email": "alice@example.com"})
    assert asked.status_code == 303, asked.text
    first = idp.wait_for_mail("alice@example.com", after=before)
    idp.clock.advance(31)
    resend = dict(_forms(browser.get(asked.headers["location"]).text))["/signin/code/resend"]
    again = browser.post("/signin/code/resend", data=resend)
    assert again.status_code == 303, again.text
    idp.wait_for_mail("alice@example.com", after=int(first["id"]))

    phone_page = browser.get("/signin/phone")
    before = newest_mail_id(idp.outbox.messages())
    asked = browser.post("/signin/phone", data={**_hidden(phone_page), "phone": CAROL_PHONE})
    assert asked.status_code == 303, asked.text
    first = wait_for_mail(idp.outbox.messages, CAROL_PHONE, after=before)
    idp.clock.advance(31)
    resend = dict(_forms(browser.get(asked.headers["location"]).text))["/signin/phone/code/resend"]
    again = browser.post("/signin/phone/code/resend", data=resend)
    assert again.status_code == 303, again.text
    wait_for_mail(idp.outbox.messages, CAROL_PHONE, after=int(first["id"]))


def _totp(idp: ProviderHarness) -> None:
    """An authenticator app set up from the account page, used to sign in, its codes renewed, removed."""
    browser = idp.new_browser()
    idp.clock.advance(31)
    account = run_sign_in(browser, f"{ISSUER}/signin?then=account", "bob@example.com", issuer=ISSUER)
    assert account.status_code == 200 and str(account.url).endswith("/account")
    shown = browser.post("/account/totp/enrol", data=dict(_forms(account.text))["/account/totp/enrol"])
    assert shown.status_code == 200, shown.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', shown.text)
    assert secret is not None
    app = pyotp.TOTP(secret.group(1).replace(" ", ""))
    confirm = dict(_forms(shown.text))["/account/totp/confirm"]
    confirmed = browser.post("/account/totp/confirm", data={**confirm, "code": now_code(idp, app)})
    assert confirmed.status_code == 200 and "Two-step verification is on" in confirmed.text, confirmed.text
    forms = dict(_forms(browser.get("/account").text))
    renewed = browser.post("/account/totp/recovery-codes", data=forms["/account/totp/recovery-codes"])
    assert renewed.status_code == 200 and "New recovery codes" in renewed.text, renewed.text

    other = idp.new_browser()
    idp.clock.advance(31)
    asked = run_sign_in(other, f"{ISSUER}/signin?then=account", "bob@example.com", issuer=ISSUER)
    assert urlsplit(str(asked.url)).path == "/signin/totp", asked.url
    signed = submit_totp(other, now_code(idp, app))
    assert signed.status_code == 303, signed.text
    assert "bob@example.com" in other.get("/account").text

    removed = browser.post("/account/totp/remove", data=forms["/account/totp/remove"])
    assert removed.status_code == 303, removed.text
    assert idp.store.get_totp("usr_bob") is None


def _static(idp: ProviderHarness) -> None:
    """The stylesheet, the icon and the configured logo."""
    browser = idp.new_browser()
    assert "body" in browser.get("/static/tessera.css").text
    for image in ("/static/icon.svg", "/static/logo"):
        shown = browser.get(image)
        assert shown.status_code == 200 and shown.headers["content-type"].startswith("image/svg"), image
    assert browser.get("/static/logo").text == LOGO


def _linked_csrf(page: str) -> str:
    """The form token of the account page's linked sign-ins section."""
    found = re.search(r'name="csrf" value="([^"]+)"', page.partition('<section id="linked-sign-ins">')[2])
    assert found is not None, page
    return html.unescape(found.group(1))


def _federation(idp: ProviderHarness, fake: FakeUpstream) -> None:
    """Sign in with ``corp`` (the email from its userinfo), link ``other`` (a ``form_post`` answer)
    from the account page, and unlink it."""
    fake.person = {"sub": "up-dora"}
    fake.userinfo_extra = {"email": "dora@example.com", "email_verified": True}
    walk = Walk(idp, idp.new_browser())
    assert walk.sign_in("corp")["access_token"]
    dora = idp.store.find_user_by_email("dora@example.com")
    assert dora is not None
    browser = walk.browser
    moved = browser.get("/account/upstreams")
    assert moved.status_code == 303 and moved.headers["location"].endswith("/account#linked-sign-ins")

    fake.person = {"sub": "up-dora-2"}
    started = browser.post("/upstream/other/link", data={"csrf": _linked_csrf(browser.get("/account").text)})
    assert started.status_code == 303, started.text
    answer = httpx.get(started.headers["location"])  # the upstream's self-posting form
    action = re.search(r'<form method="post" action="([^"]+)">', answer.text)
    assert answer.status_code == 200 and action is not None, answer.text
    linked = browser.post(urlsplit(html.unescape(action.group(1))).path, data=_hidden(answer))
    assert linked.status_code == 303 and linked.headers["location"].endswith("/account"), linked.text
    link = idp.store.find_upstream_link("other", "up-dora-2")
    assert link is not None and link.user_id == dora.user_id

    csrf = _linked_csrf(browser.get("/account").text)
    unlinked = browser.post("/upstream/other/unlink", data={"csrf": csrf, "subject": "up-dora-2"})
    assert unlinked.status_code == 303, unlinked.text
    assert idp.store.find_upstream_link("other", "up-dora-2") is None
    assert idp.store.find_upstream_link("corp", "up-dora") is not None


def test_no_route_calls_the_store_or_an_upstream_on_the_event_loop(watched: Watched) -> None:
    idp, store, http, fake, log = watched
    _oauth_endpoints(idp)
    _passkeys(idp)
    _magic_link(idp)
    _sms(idp)
    _resends(idp)
    _totp(idp)
    _dev_pages(idp)
    _account_sessions(idp)
    _static(idp)
    _federation(idp, fake)
    assert _unrequested(log.routes, log.seen) == []
    assert {
        "rotate_refresh",
        "consume_passkey_challenge",
        "record_passkey_use",
        "rename_passkey",
        "remove_passkey",
        "find_user_by_phone",
        "list_clients",
        "end_session",
        "get_access_token",
        "confirm_totp",
        "remove_totp",
        "save_upstream_login",
        "take_upstream_login",
        "link_upstream",
        "unlink_upstream",
    } <= set(store.calls)
    assert {"POST /token", "GET /userinfo"} <= set(http.calls)
    assert any(c.endswith("/.well-known/openid-configuration") for c in http.calls)
    assert any(c.startswith("JWKS ") for c in http.calls)
    assert {"store": store.on_loop, "upstream http": http.on_loop} == {"store": [], "upstream http": []}


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


def test_a_slow_store_call_does_not_hold_up_other_requests(tmp_path: Path) -> None:
    store = HeldClientStore(tmp_path / "tessera.db")
    idp = ProviderHarness(tmp_path, store=store)
    store.hold = True

    async def race() -> tuple[int, bool, int]:
        transport = httpx.ASGITransport(app=idp.app)
        async with httpx.AsyncClient(transport=transport, base_url=idp.issuer) as client:
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
    work_threads = 4


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
