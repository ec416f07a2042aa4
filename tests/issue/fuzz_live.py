"""The provider that the fuzz tests share, its genuine artefacts, and the genuine requests they interleave.

See ``test_fuzz_endpoints`` for what the fuzz asserts. The ``live`` fixture (``conftest``) opens one
provider per test module with :func:`open_live`.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from starlette.testclient import TestClient

from tessera.issue.endpoints.client_auth import ASSERTION_TYPE
from tessera.testing.idp import (
    ISSUER,
    LEGACY_SECRET,
    SPA_REDIRECT,
    SVC_SECRET,
    WEB_REDIRECT,
    WEB_SECRET,
    ProviderHarness,
    pkce_pair,
)
from tessera.testing.signin import newest_mail_id

from .fuzz_inputs import assert_clean, header_text, junk_text, often, snapshot, values

FORM = ("Content-Type", "application/x-www-form-urlencoded")
HIDDEN = re.compile(r'name="(csrf|request)" value="([^"]*)"')


@dataclass(repr=False)
class Live:
    """The module's provider, a cookie-less client, and the genuine artefacts mixed into the junk."""

    idp: ProviderHarness
    client: TestClient
    service_token: str
    user_token: str
    refresh_token: str
    id_token: str
    spa_refresh_token: str
    session: str
    csrf_cookie: str
    csrf: str
    pending: str
    consent_csrf: str
    challenge: str

    def __repr__(self) -> str:
        return "Live(...)"

    def send(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: list[tuple[str, Any]] | None = None,
        cookie: str | None = None,
    ) -> Any:
        """One request with exactly these headers and cookies, checked for G1."""
        self.client.cookies.clear()
        sent = list(headers or [])
        if cookie is not None:
            sent.append(("Cookie", cookie.encode("latin-1")))
        response = self.client.request(method, path, content=content, headers=sent)
        assert_clean(response)
        return response

    def state(self, ignore: dict[str, frozenset[str]] | None = None) -> dict[str, list[str]]:
        """The store's rows (see :func:`snapshot`) once queued mail is sent, and the newest mail sent.

        The mail sender empties ``mail_queue`` on its own time, so the queue is settled first; a
        mail a request queued then shows as a new newest id in the dev outbox.
        """
        self.idp.settle_mail()
        rows = snapshot(self.idp.store.path, ignore)
        rows["(dev outbox)"] = [str(newest_mail_id(self.idp.outbox.messages()))]
        return rows

    def cookies(self, *, session: bool = True, signin: bool = False) -> st.SearchStrategy[str | None]:
        """A Cookie header: none, the genuine ones, junk, repeated names, or oversized."""
        real = [f"tessera-csrf={self.csrf_cookie}"]
        if session:
            real.append(f"tessera-session={self.session}")
        if signin:
            real.append(f"tessera-signin={self.challenge}")
        names = st.sampled_from(["tessera-csrf", "tessera-session", "tessera-signin", "x"])
        junk = st.lists(st.tuples(names, header_text).map("=".join), max_size=3)
        return often(
            st.just("; ".join(real)),
            st.none(),
            st.tuples(st.just(real), junk).map(lambda pair: "; ".join(pair[0] + pair[1])),
            junk.map("; ".join),
            st.just("; ".join(real + real)),
            st.just("x=" + "A" * 9000),
        )


def hidden(html: str) -> dict[str, str]:
    """The hidden ``csrf`` and ``request`` fields of a page."""
    return dict(HIDDEN.findall(html))


def open_live(directory: Path) -> Live:
    """A provider with its genuine artefacts; rate limits out of the way, purging off."""
    idp = ProviderHarness(
        directory,
        client_auth_failures_per_minute=10**9,
        sign_in_requests_per_minute_per_address=10**9,
        token_requests_per_minute_per_address=None,
        authorize_requests_per_minute_per_address=None,
        purge_interval_seconds=10**9,  # no purge of expired rows in the middle of a comparison
    )
    service = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()
    web = idp.tokens("web")
    spa = idp.tokens("spa")  # a family of its own for the token fuzz, which may rotate it
    session = idp.browser.cookies["tessera-session"]
    consent = idp.browser.get(
        idp.authorize(idp.authorize_params("partner", prompt="consent")).headers["location"]
    )
    assert consent.status_code == 200
    anonymous = idp.new_browser()
    signin_page = anonymous.get("/signin")
    csrf_cookie = anonymous.cookies["tessera-csrf"]
    csrf = hidden(signin_page.text)["csrf"]
    started = anonymous.post("/signin", data={"csrf": csrf, "email": "bob@example.com"})
    assert started.status_code == 303
    return Live(
        idp=idp,
        client=idp.new_browser(),
        service_token=service["access_token"],
        user_token=web["access_token"],
        refresh_token=web["refresh_token"],
        id_token=web["id_token"],
        spa_refresh_token=spa["refresh_token"],
        session=session,
        csrf_cookie=csrf_cookie,
        csrf=csrf,
        pending=hidden(consent.text)["request"],
        consent_csrf=hidden(consent.text)["csrf"],
        challenge=anonymous.cookies["tessera-signin"],
    )


def assertions(live: Live) -> st.SearchStrategy[str]:
    """Client assertions: junk, and ones really signed by ``jwt-client`` whose claims are hostile."""
    number = st.one_of(
        st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.just(10**400), st.text(max_size=5)
    )
    claims = st.fixed_dictionaries(
        {},
        optional={
            "iss": st.sampled_from(["jwt-client", "svc", ""]),
            "sub": st.sampled_from(["jwt-client", "x"]),
            "aud": st.sampled_from([ISSUER, [ISSUER], ISSUER + "/token", None]),
            "exp": number,
            "iat": number,
            "nbf": number,
            "jti": st.one_of(junk_text, st.integers()),
        },
    )
    signed = claims.map(lambda body: live.idp.client_key.sign_jwt(body, typ="JWT"))
    return st.one_of(values("e30.e30.e30", "!!.!!.!!", "a.b", "eyJhbGciOiJub25lIn0.e30."), signed)


CLIENT_FIELDS = ("client_id", "client_secret", "client_assertion", "client_assertion_type")


def basic(client_id: str, secret: str) -> tuple[str, str]:
    """A ``client_secret_basic`` header."""
    return ("Authorization", "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())


def fresh_assertion(live: Live) -> str:
    """A valid ``private_key_jwt`` assertion of ``jwt-client`` with a new ``jti``."""
    now = int(live.idp.clock())
    claims = {
        "iss": "jwt-client",
        "sub": "jwt-client",
        "aud": ISSUER,
        "exp": now + 60,
        "jti": secrets.token_hex(8),
    }
    return live.idp.client_key.sign_jwt(claims, typ="JWT")


def token_fields(live: Live) -> dict[str, st.SearchStrategy[str]]:
    """Values for every field the token endpoint reads, genuine ones among them."""
    verifier, _ = pkce_pair()
    return {
        "grant_type": often(
            st.sampled_from(["authorization_code", "refresh_token", "client_credentials"]),
            values("password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"),
        ),
        "code": values(live.user_token, live.spa_refresh_token),
        "code_verifier": values(verifier, "a" * 42, "a" * 129),
        "redirect_uri": values(SPA_REDIRECT, WEB_REDIRECT),
        "refresh_token": values(live.spa_refresh_token, live.user_token, live.id_token),
        "scope": values(
            "demo:read", "demo:read demo:write", "openid profile", "admin", "demo:read  demo:write"
        ),
        "client_id": values("spa", "svc", "web", "jwt-client", "nobody"),
        "client_secret": values(SVC_SECRET, WEB_SECRET, LEGACY_SECRET),
        "client_assertion": assertions(live),
        "client_assertion_type": values(ASSERTION_TYPE),
    }


def genuine_client_credentials(live: Live) -> None:
    """A real client_credentials request: it must still get a token that verifies."""
    response = live.send("POST", "/token", content=b"grant_type=client_credentials", headers=svc_basic())
    assert response.status_code == 200, response.text
    assert live.idp.provider.check_access_token(response.json()["access_token"]).client_id == "svc"


def svc_basic() -> list[tuple[str, Any]]:
    """The headers of a form POST authenticated as ``svc``."""
    return [basic("svc", SVC_SECRET), FORM]


def page_fields(live: Live) -> dict[str, st.SearchStrategy[str]]:
    """Values for the fields of the sign-in, consent and logout forms."""
    return {
        "csrf": values(live.csrf, live.consent_csrf, live.csrf[:-1] + "\u00e9", live.consent_csrf.upper()),
        "request": values(live.pending),
        "email": values("alice@example.com", "bob@example.com", "a@b", "\u00e9@\u00e9.example"),
        "code": values("000000", "123456", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 34 56"),
        "decision": values("Approve", "approve ", "allow", "DENY"),
        "post_logout_redirect_uri": values("https://app.example/bye", "https://evil.example/"),
        "client_id": values("spa", "web", "partner"),
        "state": values("s"),
    }


def page_cookie(live: Live) -> str:
    """Every genuine cookie a browser in the middle of a sign-in has."""
    return f"tessera-csrf={live.csrf_cookie}; tessera-signin={live.challenge}; tessera-session={live.session}"
