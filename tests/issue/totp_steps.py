"""Steps the TOTP tests share: enrol a user, compute codes, pass the TOTP page, read token claims."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pyotp
from starlette.testclient import TestClient

from tessera.issue.assurance import ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR
from tessera.store import User
from tessera.testing.idp import SPA_REDIRECT, ProviderHarness, query_of
from tessera.testing.signin import run_sign_in
from tessera.verify import Claims, Verifier

__all__ = [
    "ACR_MULTI_FACTOR",
    "ACR_SINGLE_FACTOR",
    "ALICE",
    "BOB",
    "at_client",
    "claims_of",
    "enrol",
    "hidden_fields",
    "now_code",
    "put_cookie",
    "submit_totp",
    "totp_page",
]

ALICE = User("usr_alice", "alice@example.com", True, "Alice", ("admin",))
BOB = User("usr_bob", "bob@example.com", True, "Bob", ())
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's form."""
    return dict(_HIDDEN.findall(page))


def enrol(idp: ProviderHarness, user: User = ALICE) -> tuple[pyotp.TOTP, tuple[str, ...]]:
    """A confirmed factor for ``user`` through the core (its first code uses the current step)."""
    enrolment = idp.provider.totp.enrol(user)
    app = pyotp.TOTP(enrolment.secret)
    codes = idp.provider.totp.confirm(user.user_id, app.at(idp.clock.now))
    idp.clock.advance(30)  # the confirming step is used: sign-ins take the next one
    return app, codes


def now_code(idp: ProviderHarness, app: pyotp.TOTP) -> str:
    """The code the user's app shows at the provider's time."""
    return str(app.at(idp.clock.now))


def totp_page(
    idp: ProviderHarness, browser: TestClient, email: str = ALICE.email, **params: str | None
) -> tuple[Any, dict[str, str]]:
    """Start a request of ``spa`` and pass the email code: (the page reached, the request's params)."""
    request = idp.authorize_params(**params)
    idp.clock.advance(31)
    page = run_sign_in(browser, f"{idp.issuer}/authorize?{urlencode(request)}", email, issuer=idp.issuer)
    return page, request


def put_cookie(browser: TestClient, name: str, value: str) -> None:
    """Replace cookie ``name`` in the browser's jar (one value, as a browser keeps it)."""
    browser.cookies.delete(name)
    browser.cookies.set(name, value, domain="127.0.0.1", path="/")


def submit_totp(browser: TestClient, code: str) -> Any:
    """POST ``code`` on the TOTP page (its form's CSRF token read from the page)."""
    page = browser.get("/signin/totp")
    assert page.status_code == 200, page.text
    return browser.post("/signin/totp", data={**hidden_fields(page.text), "code": code})


def at_client(browser: TestClient, done: Any) -> str:
    """Follow a completed sign-in's 303 to the client; the authorization code it carries."""
    assert done.status_code == 303, done.text
    landed = browser.get(done.headers["location"])
    assert landed.headers["location"].startswith(SPA_REDIRECT), landed.headers.get("location")
    return query_of(landed.headers["location"])["code"]


def claims_of(
    idp: ProviderHarness, code: str, request: dict[str, str]
) -> tuple[Claims, Claims, dict[str, Any]]:
    """Redeem ``code``: the verified ID token and access token claims, and the token response."""
    response = idp.exchange(code, idp.last_verifier, "spa", request["redirect_uri"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    jwks = idp.browser.get("/jwks").json()
    id_token = Verifier(issuer=idp.issuer, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock)
    access = Verifier(issuer=idp.issuer, audience=idp.issuer, token_type="at+jwt", jwks=jwks, clock=idp.clock)
    return id_token.verify(body["id_token"]), access.verify(body["access_token"]), body
