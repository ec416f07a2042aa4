"""In Chromium: two real ``tessera dev`` processes, the second signing people in with the first.

Process 2 (``http://localhost:PORT``, ``[[upstreams]] id = "dev"`` in its ``tessera.toml``) runs
its start page's ``dev-spa`` sign-in; the person presses "Upstream Tessera", signs in on process
1's hosted pages (``http://127.0.0.1:PORT``) with the code from its dev outbox, comes back, and
the browser ends at process 2's ``/dev/callback`` with a code, redeemed there for tokens that say
``amr`` fed and ``idp`` dev.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tessera.testing.devserver import DevServer
from tessera.testing.signin import code_in, wait_for_mail

from .two_devs import UPSTREAM_NAME, shown_claims, tessera_pair

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[4] / ".artifacts" / "screenshots"


def _outbox(server: DevServer) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{server.issuer}/dev/outbox", timeout=5) as response:  # noqa: S310 - loopback
        listed: list[dict[str, object]] = json.load(response)
    return listed


def test_federated_sign_in_between_two_tessera_dev_processes_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium must be installed in CI")
        pytest.skip("/usr/bin/chromium is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tessera_pair(tmp_path) as (upstream, downstream), playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            page = context.new_page()
            try:
                page.goto(f"{downstream.issuer}/")
                page.get_by_role("button", name="Sign in").first.click()
                page.wait_for_url(re.compile(re.escape(downstream.issuer) + "/signin.*"))
                page.screenshot(path=str(SCREENSHOTS / "federation-signin-choices.png"), full_page=True)
                page.get_by_role("link", name=UPSTREAM_NAME).click()
                page.wait_for_url(re.compile(re.escape(upstream.issuer) + "/signin.*"))
                page.screenshot(path=str(SCREENSHOTS / "federation-upstream-signin.png"), full_page=True)
                before = max((int(str(m["id"])) for m in _outbox(upstream)), default=0)
                page.fill("#email", "alice@example.com")
                page.get_by_role("button", name="Email me a code").click()
                page.wait_for_url(re.compile(".*/signin/code.*"))
                mail = wait_for_mail(lambda: _outbox(upstream), "alice@example.com", after=before)
                page.fill("#code", code_in(mail))
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(re.compile(re.escape(f"{downstream.issuer}/dev/callback") + r"\?.*"))
                page.screenshot(path=str(SCREENSHOTS / "federation-back-at-client.png"), full_page=True)
                arrived = page.url
                shown = page.content()
            except Exception:
                page.screenshot(path=str(SCREENSHOTS / "federation-failed.png"), full_page=True)
                print("stopped at", page.url)
                raise
        finally:
            browser.close()
    answer = {k: v[0] for k, v in parse_qs(urlsplit(arrived).query).items()}
    assert answer["code"] and answer["iss"] == downstream.issuer
    assert "Signed in" in shown
    claims = shown_claims(shown, "id-claims")
    assert claims["amr"] == ["fed"] and claims["idp"] == "dev" and claims["aud"] == "dev-spa"
    assert shown_claims(shown, "access-claims")["idp"] == "dev"
