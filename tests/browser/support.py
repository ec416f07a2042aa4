"""What the browser tests share: PKCE, the authorization URL, the dev outbox, the loopback
callback, form submission with its navigation's answer, and screenshots."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from playwright.sync_api import Page
from playwright.sync_api import Response as PageResponse

from tessera.testing import LocalHTTPServer, Response
from tessera.testing.devserver import DevServer
from tessera.testing.signin import Mails, code_in, newest_mail_id, wait_for_mail

SCOPE = "openid offline_access demo:read"


class Shot:
    """Saves numbered full-page screenshots of one test: ``<folder>/<n>-<name>.png``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, page: Page, name: str) -> Path:
        """Screenshot ``page`` (the whole page, not just the viewport) under ``name``."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


class Callback(LocalHTTPServer):
    """The client's loopback redirect URI: answers ``/callback`` (and ``/`` after logout) with a
    page, and records each authorization response it receives."""

    def __init__(self) -> None:
        super().__init__()
        landed = b"<!doctype html><title>Client</title><h1>Back at the client</h1>"
        self.routes["/callback"] = Response(200, landed, {"Content-Type": "text/html"})
        self.routes["/"] = Response(200, landed, {"Content-Type": "text/html"})

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:<port>/callback`` (RFC 8252 §7.3: the IP literal, not localhost)."""
        return f"{self.url}/callback"

    def params(self) -> dict[str, str]:
        """The query of the last request to ``/callback``; fails when there was none."""
        hits = [t for t in self.targets if urlsplit(t).path == "/callback"]
        assert hits, "the client's callback was never reached"
        return dict(parse_qsl(urlsplit(hits[-1]).query))


def pkce() -> tuple[str, str]:
    """A fresh PKCE ``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(server: DevServer, redirect_uri: str, challenge: str, **extra: str) -> str:
    """An authorization code + PKCE request of ``dev-spa`` (override ``client_id`` in ``extra``)."""
    params = {
        "client_id": "dev-spa",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": SCOPE,
        "state": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{server.issuer}/authorize?{urlencode(params)}"


def outbox(server: DevServer) -> Mails:
    """The dev outbox, newest first (``GET /dev/outbox``)."""
    mails: Mails = httpx.get(f"{server.issuer}/dev/outbox", timeout=10).json()
    return mails


def mail_mark(server: DevServer) -> int:
    """The newest outbox id now: take it before a form that sends mail, pass it to :func:`outbox_code`."""
    return newest_mail_id(outbox(server))


def outbox_code(server: DevServer, email: str, after: int) -> str:
    """The sign-in code of the first mail to ``email`` newer than ``after``, polling the outbox
    (mail is sent off the request path, a moment after the form's answer)."""
    return code_in(wait_for_mail(lambda: outbox(server), email, after=after))


def submit(page: Page, button: str) -> PageResponse:
    """Click ``button`` (a selector) and return the answer the navigation ended on, after redirects."""
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None
    return response


def sign_in(page: Page, server: DevServer, email: str, shot: Shot | None = None) -> PageResponse:
    """On the sign-in page: type ``email``, then the code from the outbox; the page that follows."""
    mark = mail_mark(server)
    page.fill("#email", email)
    sent = submit(page, "button[type=submit]")
    assert sent.status == 200, page.inner_text("body")
    assert urlsplit(page.url).path == "/signin/code"
    if shot is not None:
        shot(page, "code-form")
    page.fill("#code", outbox_code(server, email, mark))
    return submit(page, "button[type=submit]")


def redeem(server: DevServer, code: str, verifier: str, redirect_uri: str, client_id: str = "dev-spa") -> str:
    """Exchange an authorization code at ``/token`` over HTTP; the access token."""
    response = httpx.post(
        f"{server.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
