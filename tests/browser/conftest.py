"""Fixtures of the browser tests: one headless Chromium for the package, a fresh context per test,
real ``tessera dev`` processes, a loopback OAuth callback and full-page screenshots.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's sync API; Playwright's own
browser download is never used. Without Chromium the tests are skipped locally and fail in CI
(``CI=true``), where ``.ci/run`` installs it.

A new browser test takes ``dev`` (one default ``tessera dev`` per module) or ``start_dev`` (its
own, with extra command-line arguments), ``page`` (a tab in a fresh profile), ``callback`` (the
client's loopback redirect URI) and ``shot``, and the helpers of :mod:`tests.browser.support`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tessera.testing.devserver import DevServer

from .support import Callback, Shot

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
TIMEOUT_MS = 10_000

DEV_USERS = ("alice@example.com:admin", "bob@example.com", "carol@example.com", "dave@example.com")


def require_browser(executable: Path, environ: Mapping[str, str]) -> Path:
    """``executable`` when it exists; else fail under ``CI=true`` and skip elsewhere."""
    if executable.exists():
        return executable
    reason = f"{executable} is not installed (apt-get install chromium; .ci/run does it)"
    if environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI, and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Headless Chromium for the browser tests; missing, it skips locally and fails in CI.

    One browser serves every test of this package. It is closed when the run leaves the package,
    not at the end of the session: while Playwright's sync API lives it marks its event loop as
    running in the main thread, and every asyncio test elsewhere would then fail.
    """
    executable = require_browser(CHROMIUM, os.environ)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) for one test."""
    fresh = chromium.new_context()
    fresh.set_default_timeout(TIMEOUT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in the test's browser profile."""
    return context.new_page()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """``shot(page, name)`` saves a full-page screenshot to ``.artifacts/screenshots/<test>/``."""
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for old in folder.glob("*.png"):
        old.unlink()
    return Shot(folder)


class DevServers:
    """Starts ``tessera dev`` processes on ``http://localhost:<free port>`` and stops them all."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._started: list[DevServer] = []

    def __call__(
        self,
        *args: str,
        users: tuple[str, ...] = DEV_USERS,
        env: dict[str, str] | None = None,
    ) -> DevServer:
        """A started server; ``args`` are extra command-line arguments, the data directory is new.

        The issuer is ``http://localhost:PORT``: pages are opened under that name (WebAuthn
        needs it), and the CSRF check wants the issuer's origin.
        """
        data = self._tmp_path_factory.mktemp("dev")
        server = DevServer(users=users, data=data, env=env, host="localhost", args=args)
        self._started.append(server)
        return server.start()

    def stop_all(self) -> None:
        """Stop every server started so far."""
        for server in self._started:
            server.stop()
        self._started.clear()


@pytest.fixture
def start_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServers]:
    """``start_dev(*args, users=..., env=...)`` starts a ``tessera dev`` for this test only."""
    servers = DevServers(tmp_path_factory)
    yield servers
    servers.stop_all()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One ``tessera dev`` with the default options for a test module (tests use their own users
    or browser profiles, so they do not meet)."""
    servers = DevServers(tmp_path_factory)
    yield servers()
    servers.stop_all()


@pytest.fixture
def callback() -> Iterator[Callback]:
    """A real loopback HTTP listener serving the client's redirect URI, ``/callback``."""
    listener = Callback()
    listener.start()
    yield listener
    listener.stop()
