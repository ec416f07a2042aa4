"""An in-process provider for tests: SQLite, a frozen clock, sample clients and users, flow shortcuts.

Needs the ``idp`` extra and httpx2 (Starlette's ``TestClient``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
from starlette.testclient import TestClient

from tessera.issue.app import create_app
from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.mail.delivery import DevOutbox
from tessera.issue.provider import Provider
from tessera.issue.settings import ProviderSettings
from tessera.keys import SigningKey
from tessera.keys.sealing import MasterKey
from tessera.store import ClientRecord, Store, User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.signin import run_sign_in, sign_in_via_outbox, submit_consent, wait_for_mail

__all__ = [
    "FULL_SCOPE",
    "ISSUER",
    "PARTNER_REDIRECT",
    "SPA_REDIRECT",
    "WEB_REDIRECT",
    "FakeClock",
    "ProviderHarness",
    "pkce_pair",
    "query_of",
]

ISSUER = "http://127.0.0.1:8000"
SPA_REDIRECT = "http://127.0.0.1:5173/callback"
WEB_REDIRECT = "https://app.example/cb"
PARTNER_REDIRECT = "https://partner.example/cb"
WEB_SECRET = "web-secret-" + "x" * 40
SVC_SECRET = "svc-secret-" + "y" * 40
LEGACY_SECRET = "legacy-secret-" + "z" * 40
PARTNER_SECRET = "partner-secret-" + "p" * 40
FULL_SCOPE = "openid profile email offline_access demo:read"


_REDIRECTS = {"spa": SPA_REDIRECT, "partner": PARTNER_REDIRECT}
_SECRETS = {"web": WEB_SECRET, "partner": PARTNER_SECRET}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce_pair() -> tuple[str, str]:
    """A (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect location (single values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


class ProviderHarness:
    """One provider, its app, a browser-like client, and shortcuts through the flows."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        issuer: str = ISSUER,
        store: Store | None = None,
        clock: FakeClock | None = None,
        master: MasterKey | None = None,
        **settings: Any,
    ) -> None:
        self.clock = clock or FakeClock()
        self.issuer = issuer
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.store: Any = store if store is not None else SQLiteStore(tmp_path / "tessera.db")
        self.mail_stream = io.StringIO()
        self.outbox = DevOutbox(stream=self.mail_stream, clock=self.clock)
        self.master = master or MasterKey.generate()
        self.provider = Provider(
            ProviderSettings(issuer=issuer, dev_mode=True, **settings),
            self.store,
            self.master,
            self.outbox,
            clock=self.clock,
            outbox=self.outbox,
        )
        self.app = create_app(self.provider)
        self.client_key = SigningKey.generate("ES256")
        self._register()
        self.browser = self.new_browser()

    def wait_for_mail(self, email: str = "alice@example.com", *, after: int = 0) -> Mapping[str, Any]:
        """The newest mail to ``email`` with an id above ``after``, once the mail sender has sent it."""
        return wait_for_mail(self.outbox.messages, email, after=after)

    def settle_mail(self, timeout: float = 15) -> None:
        """Wait until every queued mail has been sent (the queue in the store is empty)."""
        deadline = time.monotonic() + timeout
        with sqlite3.connect(self.store.path) as db:
            while db.execute("SELECT COUNT(*) FROM mail_queue").fetchone()[0]:
                if time.monotonic() > deadline:
                    raise AssertionError(f"queued mail still unsent after {timeout} s")
                time.sleep(0.01)

    def close(self) -> None:
        """Stop the mail sender and close this thread's store connection."""
        self.provider.outgoing.stop()
        self.store.close()

    def new_browser(self, peer: str = "testclient") -> TestClient:
        """A fresh client with its own cookie jar, connecting from ``peer`` (an address, say)."""
        return TestClient(self.app, base_url=self.issuer, follow_redirects=False, client=(peer, 50000))

    def _register(self) -> None:
        clients = [
            ClientRecord(
                client_id="spa",
                redirect_uris=("http://127.0.0.1:*/callback", WEB_REDIRECT),
                post_logout_redirect_uris=("https://app.example/bye",),
                scopes=("openid", "profile", "email", "offline_access", "demo:read"),
            ),
            ClientRecord(
                client_id="web",
                redirect_uris=(WEB_REDIRECT, "https://app.example/cb2"),
                auth_methods=("client_secret_basic", "client_secret_post"),
                secret_hash=hash_client_secret(WEB_SECRET),
                grant_types=("authorization_code", "refresh_token"),
                scopes=("openid", "profile", "email", "offline_access", "demo:read"),
            ),
            ClientRecord(
                client_id="partner",
                name="Partner Reports",
                redirect_uris=(PARTNER_REDIRECT,),
                auth_methods=("client_secret_basic",),
                secret_hash=hash_client_secret(PARTNER_SECRET),
                scopes=("openid", "profile", "email", "offline_access", "demo:read"),
                first_party=False,
            ),
            ClientRecord(
                client_id="legacy",
                redirect_uris=(WEB_REDIRECT,),
                auth_methods=("client_secret_basic",),
                secret_hash=hash_client_secret(LEGACY_SECRET),
                require_pkce=False,
            ),
            ClientRecord(
                client_id="svc",
                auth_methods=("client_secret_basic", "client_secret_post"),
                secret_hash=hash_client_secret(SVC_SECRET),
                grant_types=("client_credentials",),
                scopes=("demo:read", "demo:write"),
            ),
            ClientRecord(
                client_id="jwt-client",
                auth_methods=("private_key_jwt",),
                jwks={"keys": [self.client_key.public_jwk()]},
                grant_types=("client_credentials",),
                scopes=("demo:read",),
            ),
        ]
        for client in clients:
            register_client(self.store, client)
        self.store.put_user(User("usr_alice", "alice@example.com", True, "Alice", ("admin",)))
        self.store.put_user(User("usr_bob", "bob@example.com", True, "Bob", ()))

    # flows
    def authorize_params(self, client_id: str | None = "spa", **overrides: str | None) -> dict[str, str]:
        """A valid authorization request; ``overrides`` replace (None removes) parameters."""
        verifier, challenge = pkce_pair()
        self.last_verifier = verifier
        params: dict[str, str | None] = {
            "client_id": client_id,
            "redirect_uri": _REDIRECTS.get(client_id or "", WEB_REDIRECT),
            "response_type": "code",
            "scope": FULL_SCOPE,
            "state": "st-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, params: dict[str, str] | str, browser: TestClient | None = None) -> httpx.Response:
        """GET /authorize with ``params`` (a dict, or a raw query string)."""
        query = params if isinstance(params, str) else urlencode(params)
        response: httpx.Response = (browser or self.browser).get(f"/authorize?{query}")
        return response

    def sign_in(
        self, params: dict[str, str], email: str = "alice@example.com", browser: TestClient | None = None
    ) -> str:
        """Run the sign-in for ``params``; the callback URL."""
        self.clock.advance(31)  # past the resend throttle of any earlier sign-in in this test
        return sign_in_via_outbox(
            browser or self.browser, f"{self.issuer}/authorize?{urlencode(params)}", email, issuer=self.issuer
        )

    def consent_page(
        self, params: dict[str, str], email: str = "alice@example.com", browser: TestClient | None = None
    ) -> httpx.Response:
        """Sign in (if needed) for ``params``; the provider's answer: the consent page, or a redirect."""
        self.clock.advance(31)
        response: httpx.Response = run_sign_in(
            browser or self.browser, f"{self.issuer}/authorize?{urlencode(params)}", email, issuer=self.issuer
        )
        return response

    def decide(
        self, page: httpx.Response, decision: str, browser: TestClient | None = None
    ) -> httpx.Response:
        """Press Allow (``"approve"``) or Deny (``"deny"``) on ``page``."""
        response: httpx.Response = submit_consent(browser or self.browser, page, decision, issuer=self.issuer)
        return response

    def code(
        self, client_id: str = "spa", email: str = "alice@example.com", **overrides: str | None
    ) -> tuple[str, str, dict[str, str]]:
        """A fresh authorization code: (code, verifier, request params)."""
        params = self.authorize_params(client_id, **overrides)
        callback = self.sign_in(params, email)
        return query_of(callback)["code"], self.last_verifier, params

    def token(
        self, data: dict[str, str], auth: tuple[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """POST /token."""
        if auth is not None:
            kwargs["auth"] = auth
        response: httpx.Response = self.new_browser().post("/token", data=data, **kwargs)
        return response

    def exchange(
        self, code: str, verifier: str | None, client_id: str = "spa", redirect_uri: str | None = SPA_REDIRECT
    ) -> httpx.Response:
        """Redeem ``code`` as a public client, or as ``web``/``partner`` with its secret."""
        data = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
        if redirect_uri is not None:
            data["redirect_uri"] = redirect_uri
        if verifier is not None:
            data["code_verifier"] = verifier
        if client_id in _SECRETS:
            del data["client_id"]
            return self.token(data, auth=(client_id, _SECRETS[client_id]))
        return self.token(data)

    def tokens(
        self, client_id: str = "spa", email: str = "alice@example.com", **overrides: str | None
    ) -> dict[str, Any]:
        """A full sign-in and code exchange; the token response body."""
        code, verifier, params = self.code(client_id, email, **overrides)
        response = self.exchange(code, verifier, client_id, params.get("redirect_uri"))
        if response.status_code != 200:
            raise AssertionError(f"code exchange failed: {response.text}")
        body: dict[str, Any] = response.json()
        return body

    def refresh(self, refresh_token: str, client_id: str = "spa", **extra: str) -> httpx.Response:
        """POST a refresh_token grant as ``client_id`` (with its secret, for a confidential one)."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        if client_id in _SECRETS:
            return self.token(data, auth=(client_id, _SECRETS[client_id]))
        return self.token({**data, "client_id": client_id})

    def introspect(self, token: str, auth: tuple[str, str] = ("web", WEB_SECRET)) -> dict[str, Any]:
        """POST /introspect as a confidential client (``web`` by default)."""
        response = self.new_browser().post("/introspect", data={"token": token}, auth=auth)
        if response.status_code != 200:
            raise AssertionError(f"introspection failed: {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    def hello(self, access_token: str) -> httpx.Response:
        """GET /demo/hello with a bearer token."""
        response: httpx.Response = self.new_browser().get(
            "/demo/hello", headers={"Authorization": f"Bearer {access_token}"}
        )
        return response
