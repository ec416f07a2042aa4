"""In Chromium: sign in at the application's Tessera with another Tessera (a real ``tessera dev``).

The downstream provider is served over HTTP by uvicorn as ``http://localhost:PORT``; the upstream
is ``tessera dev`` at ``http://127.0.0.1:PORT`` (two hosts, so their cookies do not mix: cookies
ignore ports). The person presses the upstream's button, signs in on the upstream's pages with
the code from its dev outbox, and the application's callback receives a code that redeems for
Tessera's tokens with ``amr`` fed and ``idp`` dev.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import uvicorn

from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.store import ClientRecord
from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import DevServer, free_port
from tessera.testing.http import LocalHTTPServer, Response
from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import code_in, wait_for_mail
from tessera.verify import Verifier

from .harness import SECRET, configure

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[4] / ".artifacts" / "screenshots"


@pytest.fixture
def served(tmp_path: Path, fresh_jwks_registry: None) -> Iterator[ProviderHarness]:
    """The downstream provider on a free port, as ``http://localhost:PORT``."""
    port = free_port()
    idp = ProviderHarness(tmp_path / "down", issuer=f"http://localhost:{port}")
    idp.clock.now = time.time()
    server = uvicorn.Server(uvicorn.Config(idp.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield idp
    server.should_exit = True
    thread.join(10)
    idp.store.close()


def _outbox(server: DevServer) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{server.issuer}/dev/outbox", timeout=5) as response:  # noqa: S310 - loopback
        listed: list[dict[str, object]] = json.load(response)
    return listed


def test_federated_sign_in_in_chromium(served: ProviderHarness) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium must be installed in CI")
        pytest.skip("/usr/bin/chromium is not installed")
    idp = served
    with DevServer(users=("alice@example.com",)) as upstream:
        store = SQLiteStore(upstream.data / "tessera.db")
        register_client(
            store,
            ClientRecord(
                client_id="downstream",
                redirect_uris=(f"{idp.issuer}/upstream/dev/callback",),
                auth_methods=("client_secret_basic",),
                secret_hash=hash_client_secret(SECRET),
                scopes=("openid", "email", "profile"),
            ),
        )
        store.close()
        configure(
            idp,
            {
                "id": "dev",
                "name": "Upstream Tessera",
                "issuer": upstream.issuer,
                "client_id": "downstream",
                "client_secret_env": "CORP_SECRET",
            },
        )
        application = LocalHTTPServer().start()
        application.routes["/callback"] = Response(200, b"signed in", {"Content-Type": "text/plain"})
        callback = f"{application.url}/callback"
        params = idp.authorize_params(redirect_uri=callback)
        query = urlencode(params)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            try:
                context = browser.new_context()
                context.set_default_timeout(15_000)
                arrived: list[str] = []
                page = context.new_page()
                page.goto(f"{idp.issuer}/authorize?{query}")
                page.screenshot(path=str(SCREENSHOTS / "federation-signin-choices.png"), full_page=True)
                page.get_by_role("link", name="Upstream Tessera").click()
                page.wait_for_url(re.compile(re.escape(upstream.issuer) + "/signin.*"))
                page.screenshot(path=str(SCREENSHOTS / "federation-upstream-signin.png"), full_page=True)
                before = max((int(str(m["id"])) for m in _outbox(upstream)), default=0)
                page.fill("#email", "alice@example.com")
                page.get_by_role("button", name="Email me a code").click()
                page.wait_for_url(re.compile(".*/signin/code.*"))
                mail = wait_for_mail(lambda: _outbox(upstream), "alice@example.com", after=before)
                page.fill("#code", code_in(mail))
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(re.compile(re.escape(callback) + r".*"))
                arrived.append(page.url)
                page.screenshot(path=str(SCREENSHOTS / "federation-back-at-client.png"), full_page=True)
            except Exception:
                page.screenshot(path=str(SCREENSHOTS / "federation-failed.png"), full_page=True)
                print("stopped at", page.url)
                raise
            finally:
                browser.close()
                application.stop()
    assert arrived, "the browser never reached the application's callback"
    answer = {k: v[0] for k, v in parse_qs(urlsplit(arrived[-1]).query).items()}
    assert answer["state"] == params["state"] and answer["iss"] == idp.issuer
    tokens = idp.new_browser().post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "client_id": "spa",
            "redirect_uri": callback,
            "code_verifier": idp.last_verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    jwks = idp.new_browser().get("/jwks").json()
    claims = Verifier(
        issuer=idp.issuer, audience=idp.issuer, token_type="at+jwt", jwks=jwks, clock=idp.clock
    ).verify(tokens.json()["access_token"])
    assert claims["amr"] == ["fed"] and claims["idp"] == "dev" and claims.subject == "usr_alice"
