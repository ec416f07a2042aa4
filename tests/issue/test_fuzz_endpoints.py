"""G1, G2, G4 by fuzzing: hostile input at every provider endpoint gets a clean 4xx and writes nothing.

One provider serves the whole module. Its genuine artefacts (tokens, a session, a CSRF pair, a
pending consent request, a sign-in in progress) are mixed into the junk, so examples reach the
checks behind the parsers. Each example then sends a genuine request that must still succeed,
so the properties cannot hold merely because the provider is broken.

A rejected request must leave every table as it was (every row compared, not only counted),
with the exceptions the catalogue allows: the AS-57 rate counters (raised out of the way here;
they have their own tests), an attempt spent on a wrong one-time code (G2), and the ``jti`` of
a client assertion that authenticated before the grant was refused (AS-42).
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tessera.issue.client_auth import ASSERTION_TYPE
from tessera.testing.idp import (
    FULL_SCOPE,
    ISSUER,
    LEGACY_SECRET,
    PARTNER_REDIRECT,
    SPA_REDIRECT,
    SVC_SECRET,
    WEB_REDIRECT,
    WEB_SECRET,
    ProviderHarness,
    pkce_pair,
    query_of,
)

from .fuzz_inputs import (
    BEARER_ERRORS,
    FUZZ,
    assert_clean,
    assert_oauth_error,
    authorization_headers,
    changed_tables,
    forms,
    header_text,
    junk_text,
    malformed_bodies,
    often,
    snapshot,
    values,
)

FORM = ("Content-Type", "application/x-www-form-urlencoded")
_HIDDEN = re.compile(r'name="(csrf|request)" value="([^"]*)"')
_ATTEMPTS = {"one_time_codes": frozenset({"attempts"})}  # a wrong one-time code burns an attempt (G2)
_REDIRECTS = (SPA_REDIRECT, WEB_REDIRECT, PARTNER_REDIRECT, "https://app.example/cb2")
_LOOPBACK_CALLBACK = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+/callback\?")


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
        """The store's rows (see :func:`snapshot`)."""
        return snapshot(self.idp.store.path, ignore)

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


def _hidden(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    idp = ProviderHarness(
        Path(tmp_path_factory.mktemp("fuzz")),
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
    csrf = _hidden(signin_page.text)["csrf"]
    started = anonymous.post("/signin", data={"csrf": csrf, "email": "bob@example.com"})
    assert started.status_code == 303
    yield Live(
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
        pending=_hidden(consent.text)["request"],
        consent_csrf=_hidden(consent.text)["csrf"],
        challenge=anonymous.cookies["tessera-signin"],
    )
    idp.store.close()


def _assertions(live: Live) -> st.SearchStrategy[str]:
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


_CLIENT_FIELDS = ("client_id", "client_secret", "client_assertion", "client_assertion_type")


def _basic(client_id: str, secret: str) -> tuple[str, str]:
    return ("Authorization", "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())


def _fresh_assertion(live: Live) -> str:
    now = int(live.idp.clock())
    claims = {
        "iss": "jwt-client",
        "sub": "jwt-client",
        "aud": ISSUER,
        "exp": now + 60,
        "jti": secrets.token_hex(8),
    }
    return live.idp.client_key.sign_jwt(claims, typ="JWT")


@st.composite
def _credentials(draw: st.DrawFn, live: Live) -> tuple[str, list[tuple[str, Any]], dict[str, str]]:
    """Who calls: a genuine client (each authentication method) or junk; its headers and form fields."""
    who = draw(st.sampled_from(["svc", "web", "spa", "jwt-client", "legacy", "junk"]))
    if who == "svc":
        return who, [_basic("svc", SVC_SECRET)], {}
    if who == "legacy":
        return who, [_basic("legacy", LEGACY_SECRET)], {}
    if who == "web":
        return who, [], {"client_id": "web", "client_secret": WEB_SECRET}
    if who == "spa":
        return who, [], {"client_id": "spa"}
    if who == "jwt-client":
        return who, [], {"client_assertion_type": ASSERTION_TYPE, "client_assertion": _fresh_assertion(live)}
    return who, draw(authorization_headers(("svc", SVC_SECRET))), {}


def _token_fields(live: Live) -> dict[str, st.SearchStrategy[str]]:
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
        "client_assertion": _assertions(live),
        "client_assertion_type": values(ASSERTION_TYPE),
    }


def _genuine_client_credentials(live: Live) -> None:
    response = live.send("POST", "/token", content=b"grant_type=client_credentials", headers=_svc_basic())
    assert response.status_code == 200, response.text
    assert live.idp.provider.check_access_token(response.json()["access_token"]).client_id == "svc"


def _svc_basic() -> list[tuple[str, Any]]:
    return [_basic("svc", SVC_SECRET), FORM]


@settings(FUZZ, max_examples=180)
@given(data=st.data())
def test_g1_g2_token_endpoint_fuzz(live: Live, data: st.DataObject) -> None:
    who, auth, credentials = data.draw(_credentials(live))
    fields = _token_fields(live)
    if who != "junk":
        fields = {name: fields[name] for name in fields if name not in _CLIENT_FIELDS}
    grant = {"grant_type": data.draw(fields.pop("grant_type"))}
    form = data.draw(forms(fields))
    body = "&".join(filter(None, [urlencode(grant), form, urlencode(credentials)]))
    before = live.state()
    response = live.send("POST", "/token", content=body.encode(), headers=[FORM, *auth])
    assert response.headers["cache-control"] == "no-store"
    event(f"{who} {grant['grant_type'][:20]!r}: {response.status_code} {response.json().get('error', '')}")
    if response.status_code >= 400:
        assert_oauth_error(response)
        after = live.state()
        if who == "jwt-client":  # an assertion that authenticated is spent, whatever the grant says (AS-42)
            del before["seen_jti"], after["seen_jti"]
        assert changed_tables(before, after) == {}
        if response.json()["error"] == "invalid_client" and auth:
            assert response.headers["www-authenticate"].startswith("Basic")
    else:
        assert response.status_code == 200 and "access_token" in response.json()
    _genuine_client_credentials(live)


_POST_PATHS = (
    "/token",
    "/revoke",
    "/introspect",
    "/userinfo",
    "/signin",
    "/signin/code",
    "/consent",
    "/logout",
)


@FUZZ
@given(data=st.data())
def test_g1_g2_malformed_bodies_at_every_post_endpoint(live: Live, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_POST_PATHS))
    body, headers = data.draw(malformed_bodies(_token_fields(live) | _page_fields(live)))
    genuine_auth = data.draw(st.booleans())
    extra = (
        [_basic("svc", SVC_SECRET)] if genuine_auth and path in ("/token", "/revoke", "/introspect") else []
    )
    before = live.state()
    response = live.send(
        "POST", path, content=body, headers=[*headers.items(), *extra], cookie=_page_cookie(live)
    )
    event(f"{path}: {response.status_code}")
    if path in ("/token", "/revoke", "/introspect"):
        assert response.status_code in (400, 401)
        assert_oauth_error(response)
    elif path != "/userinfo":
        assert response.status_code in (400, 403)
    assert changed_tables(before, live.state()) == {}
    _genuine_client_credentials(live)


def _page_fields(live: Live) -> dict[str, st.SearchStrategy[str]]:
    return {
        "csrf": values(live.csrf, live.consent_csrf),
        "request": values(live.pending),
        "email": values("alice@example.com", "bob@example.com", "a@b", "\u00e9@\u00e9.example"),
        "code": values("000000", "123456", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 34 56"),
        "decision": values("Approve", "approve ", "allow", "DENY"),
        "post_logout_redirect_uri": values("https://app.example/bye", "https://evil.example/"),
        "client_id": values("spa", "web", "partner"),
        "state": values("s"),
    }


def _page_cookie(live: Live) -> str:
    return f"tessera-csrf={live.csrf_cookie}; tessera-signin={live.challenge}; tessera-session={live.session}"


def _introspect(live: Live, token: str, client: tuple[str, str] = ("svc", SVC_SECRET)) -> dict[str, Any]:
    response = live.send(
        "POST", "/introspect", content=urlencode({"token": token}).encode(), headers=[_basic(*client), FORM]
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@st.composite
def _back_channel_callers(
    draw: st.DrawFn, live: Live, path: str
) -> tuple[str, list[tuple[str, Any]], dict[str, str]]:
    """Callers of /revoke or /introspect; none of those that can revoke owns a genuine token on offer."""
    who = draw(st.sampled_from(["legacy", "spa", "junk"] + (["svc", "web"] if path == "/introspect" else [])))
    if who in ("svc", "web", "legacy"):
        secret = {"svc": SVC_SECRET, "web": WEB_SECRET, "legacy": LEGACY_SECRET}[who]
        if draw(st.booleans()):
            return who, [_basic(who, secret)], {}
        return who, [], {"client_id": who, "client_secret": secret}
    if who == "spa":
        return who, [], {"client_id": "spa"}
    return who, draw(authorization_headers(("web", WEB_SECRET))), {}


@FUZZ
@given(data=st.data())
def test_g1_g2_revoke_and_introspect_fuzz(live: Live, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/revoke", "/introspect"]))
    who, auth, credentials = data.draw(_back_channel_callers(live, path))
    fields = {
        "token": values(live.service_token, live.user_token, live.refresh_token, live.id_token, "a.b.c"),
        "token_type_hint": values("access_token", "refresh_token"),
    }
    if who == "junk":
        fields |= {name: strategy for name, strategy in _token_fields(live).items() if name in _CLIENT_FIELDS}
    form = data.draw(forms(fields))
    body = "&".join(filter(None, [form, urlencode(credentials)]))
    before = live.state()
    response = live.send("POST", path, content=body.encode(), headers=[FORM, *auth])
    event(
        f"{path} {who}: {response.status_code} {response.json().get('error', '') if response.content else ''}"
    )
    assert changed_tables(before, live.state()) == {}  # no caller here owns a token it could revoke (AS-53)
    if response.status_code >= 400:
        assert_oauth_error(response)
    elif path == "/revoke":
        assert response.status_code == 200 and response.content == b""
    else:
        introspection = response.json()
        assert introspection == {"active": False} or introspection["client_id"] == who, introspection
    assert _introspect(live, live.service_token)["active"] is True
    if path == "/revoke":
        fresh = live.send(
            "POST", "/token", content=b"grant_type=client_credentials", headers=_svc_basic()
        ).json()
        revoked = live.send(
            "POST",
            "/revoke",
            content=urlencode({"token": fresh["access_token"]}).encode(),
            headers=_svc_basic(),
        )
        assert revoked.status_code == 200
        assert _introspect(live, fresh["access_token"]) == {"active": False}


def _bearer_values(live: Live) -> st.SearchStrategy[str]:
    real = st.sampled_from([live.user_token, live.service_token, live.id_token, live.refresh_token])
    token = often(
        real,
        header_text,
        st.tuples(real, header_text).map("".join),
        real.map(lambda value: value[:-2]),
        real.map(lambda value: value.replace(".", "..", 1)),
        real.map(lambda value: value.swapcase()),
    )
    scheme = often(
        st.just("Bearer "), st.sampled_from(["bearer ", "BEARER ", "Bearer  ", "Bearer", "Basic ", ""])
    )
    return st.tuples(scheme, token).map("".join)


@FUZZ
@given(data=st.data())
def test_g1_g2_userinfo_fuzz(live: Live, data: st.DataObject) -> None:
    method = data.draw(st.sampled_from(["GET", "POST"]))
    count = data.draw(st.sampled_from([0, 1, 1, 1, 2]))
    auth = [("Authorization", data.draw(_bearer_values(live)).encode("latin-1")) for _ in range(count)]
    body = data.draw(forms({"access_token": values(live.user_token)})) if method == "POST" else ""
    before = live.state()
    response = live.send(method, "/userinfo", content=body.encode(), headers=[FORM, *auth])
    event(f"{method} {count}: {response.status_code} {response.json().get('error', '')}")
    assert changed_tables(before, live.state()) == {}
    if response.status_code == 200:
        assert auth == [("Authorization", f"Bearer {live.user_token}".encode())] or auth[0][1].lower() == (
            f"bearer {live.user_token}".lower().encode()
        )
        assert response.json()["sub"] == "usr_alice"
    elif response.json() == {}:
        assert response.status_code == 401 and not auth  # RFC 6750 §3.1: no token, no error code
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert_oauth_error(response, BEARER_ERRORS)
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer error=")
    genuine = live.send("GET", "/userinfo", headers=[("Authorization", f"Bearer {live.user_token}")])
    assert genuine.status_code == 200 and genuine.json()["sub"] == "usr_alice"


def _authorize_fields() -> dict[str, st.SearchStrategy[str]]:
    _, challenge = pkce_pair()
    return {
        "client_id": values("spa", "web", "partner", "legacy", "svc"),
        "redirect_uri": values(
            SPA_REDIRECT,
            WEB_REDIRECT,
            PARTNER_REDIRECT,
            "http://localhost:1/callback",
            "http://127.0.0.1:65536/callback",
            "http://127.0.0.1:05173/callback",
            "http://127.0.0.1:99999999999999999999/callback",
            "http://[::1/callback",
            "https://app.example/cb/../evil",
            "https://app.example@evil.example/cb",
            "javascript:alert(1)",
        ),
        "response_type": values("code", "token", "code id_token"),
        "scope": values(FULL_SCOPE, "openid", "openid admin", "demo:read offline_access", " ".join("s" * 40)),
        "code_challenge": values(challenge, "a" * 42, "a" * 44, "+" * 43),
        "code_challenge_method": values("S256", "plain", "s256"),
        "state": values("s&#%00\u00e9"),
        "nonce": values("n"),
        "prompt": values("none", "login", "consent", "none login", "select_account"),
        "max_age": values("0", "1", "999999999", "1000000000", "-1", "1e3", "\u0663"),
        "response_mode": values("query", "fragment", "form_post"),
        "request": values("x"),
        "request_uri": values("http://127.0.0.1:9/ro"),
        "id_token_hint": values("a.b.c"),
        "login_hint": values("alice@example.com"),
    }


_CORE = ("client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "scope")


@st.composite
def _authorization_queries(draw: st.DrawFn) -> str:
    """Mostly the parameters of a real request, each possibly spoiled or missing, and then extras."""
    fields = _authorize_fields()
    core = {name: draw(often(fields[name], st.just(""))) for name in _CORE}
    own = {"spa": SPA_REDIRECT, "web": WEB_REDIRECT, "partner": PARTNER_REDIRECT, "legacy": WEB_REDIRECT}
    if core["client_id"] in own and draw(st.sampled_from([True, True, False])):
        core["redirect_uri"] = own[core["client_id"]]
    extra = draw(forms({name: fields[name] for name in fields if name not in _CORE}))
    query = "&".join(filter(None, [urlencode({k: v for k, v in core.items() if v}), extra]))
    spoil = draw(st.sampled_from(["none"] * 8 + ["repeat", "utf8"]))
    if spoil == "repeat":
        query += "&" + draw(st.sampled_from([urlencode({name: core[name]}) for name in _CORE]))
    elif spoil == "utf8":
        query += "&" + draw(st.sampled_from(["%ff=1", "state=%c3%28", "client_id=%ed%a0%80"]))
    return query


def _assert_authorization_redirect(response: Any, query: str) -> None:
    """A redirect goes to our own pages, or to a registered redirect URI with ``iss`` (AS-01, AS-24)."""
    location = response.headers["location"]
    if response.status_code == 303:
        assert location.startswith(("/signin?request=", "/consent?request=")), location
        return
    base = location.split("?")[0]
    assert base in _REDIRECTS or _LOOPBACK_CALLBACK.match(location), location
    assert query_of(location)["iss"] == ISSUER
    sent = parse_qs(query, keep_blank_values=True)
    if len(sent.get("state", [])) == 1 and sent["state"][0]:
        assert query_of(location)["state"] == sent["state"][0]


@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_g1_g2_authorize_fuzz(live: Live, data: st.DataObject) -> None:
    continuing = data.draw(st.sampled_from([False] * 4 + [True]))
    if continuing:
        path = "/authorize/continue?" + data.draw(forms({"request": values(live.pending)}))
    else:
        path = "/authorize?" + data.draw(_authorization_queries())
    cookie = data.draw(live.cookies())
    before = live.state()
    response = live.send("GET", path, cookie=cookie)
    location = response.headers.get("location", "")
    error = query_of(location).get("error", "") if location else ""
    event(f"{path.partition('?')[0]} {response.status_code} {error}")
    assert response.status_code in (302, 303, 400), response.status_code
    if response.status_code == 400:
        assert "location" not in response.headers
    else:
        _assert_authorization_redirect(response, path.partition("?")[2])
    if response.status_code == 400 or "error" in query_of(location):
        assert changed_tables(before, live.state()) == {}
    genuine = live.send("GET", "/authorize?" + urlencode(live.idp.authorize_params()))
    assert genuine.status_code == 303 and genuine.headers["location"].startswith("/signin?request=")


def _origin_headers() -> st.SearchStrategy[list[tuple[str, Any]]]:
    origin = st.sampled_from(
        [[], [("Origin", ISSUER)], [("Origin", "https://evil.example")], [("Origin", "null")]]
    )
    site = st.sampled_from([[], [("Sec-Fetch-Site", "same-origin")], [("Sec-Fetch-Site", "cross-site")]])
    return st.tuples(often(st.just([]), origin), often(st.just([]), site)).map(lambda pair: pair[0] + pair[1])


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_g1_g2_signin_forms_fuzz(live: Live, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/signin", "/signin/code"]))
    fields = _page_fields(live)
    form = {"csrf": data.draw(often(st.just(live.csrf), fields.pop("csrf")))}
    body = "&".join(filter(None, [urlencode(form), data.draw(forms(fields))]))
    cookie = data.draw(live.cookies(session=False, signin=True))
    before = live.state(_ATTEMPTS)
    response = live.send(
        "POST", path, content=body.encode(), headers=[FORM, *data.draw(_origin_headers())], cookie=cookie
    )
    event(f"{path} {response.status_code} {re.findall('class=.error.>([^<]*)', response.text)}")
    assert response.status_code in (303, 400, 403, 429), response.status_code
    if response.status_code != 303:
        assert changed_tables(before, live.state(_ATTEMPTS)) == {}
        assert "location" not in response.headers
    page = live.send("GET", "/signin")
    assert page.status_code == 200 and _hidden(page.text)["csrf"]
    address = f"someone-{secrets.token_hex(4)}@example.com"
    started = live.send(
        "POST",
        "/signin",
        content=urlencode({"csrf": live.csrf, "email": address}).encode(),
        headers=[FORM],
        cookie=f"tessera-csrf={live.csrf_cookie}",
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/signin/code")


@FUZZ
@given(data=st.data())
def test_g1_g2_consent_fuzz(live: Live, data: st.DataObject) -> None:
    fields = _page_fields(live)
    form = {
        "request": data.draw(often(st.just(live.pending), fields.pop("request"))),
        "csrf": data.draw(often(st.just(live.consent_csrf), fields.pop("csrf"))),
    }
    body = "&".join(filter(None, [urlencode(form), data.draw(forms(fields))]))
    before = live.state()
    response = live.send(
        "POST",
        "/consent",
        content=body.encode(),
        headers=[FORM, *data.draw(_origin_headers())],
        cookie=data.draw(live.cookies()),
    )
    event(f"/consent {response.status_code} {re.findall('<p[^>]*>([^<]*)', response.text)[:1]}")
    assert response.status_code in (400, 403), response.status_code
    assert changed_tables(before, live.state()) == {}
    query = data.draw(forms({"request": values(live.pending)}))
    assert live.send("GET", f"/consent?{query}", cookie=data.draw(live.cookies())).status_code in (
        200,
        400,
        403,
    )
    shown = live.send("GET", f"/consent?request={live.pending}", cookie=f"tessera-session={live.session}")
    assert shown.status_code == 200 and _hidden(shown.text)["csrf"] == live.consent_csrf


_BYE = "https://app.example/bye"


def _logout_fields(live: Live) -> dict[str, st.SearchStrategy[str]]:
    return {
        "client_id": values("spa", "web", "partner"),
        "id_token_hint": values(live.id_token, live.user_token, "a.b.c"),
        "post_logout_redirect_uri": values(_BYE, "https://evil.example/", _BYE + "?x=1", "//evil.example"),
        "state": values("s&#"),
    }


def test_g1_g2_logout_fuzz(live: Live) -> None:
    @FUZZ
    @given(data=st.data())
    def hostile(data: st.DataObject) -> None:
        method = data.draw(st.sampled_from(["GET", "POST"]))
        fields = _logout_fields(live)
        query = data.draw(forms(fields))
        csrf = urlencode({"csrf": data.draw(often(st.just(live.csrf), values()))})
        cookie = data.draw(often(st.just(f"tessera-csrf={live.csrf_cookie}"), live.cookies(session=False)))
        cookie = f"{cookie}; tessera-session={data.draw(header_text)}" if cookie else None
        before = live.state()
        if method == "GET":
            response = live.send("GET", f"/logout?{query}", cookie=cookie)
        else:
            body = "&".join(filter(None, [csrf, query]))
            response = live.send("POST", "/logout", content=body.encode(), headers=[FORM], cookie=cookie)
        event(f"{method} {response.status_code}")
        assert changed_tables(before, live.state()) == {}  # no live session is on offer
        assert response.status_code in ((200, 400) if method == "GET" else (200, 303, 400, 403))
        if response.status_code == 303:
            assert response.headers["location"].split("?")[0] == _BYE
        genuine = live.send(
            "GET", f"/logout?{urlencode({'client_id': 'spa', 'post_logout_redirect_uri': _BYE})}"
        )
        assert genuine.status_code == 200 and _hidden(genuine.text)["csrf"]

    hostile()
    user = live.idp.store.get_user("usr_bob")
    assert user is not None
    session = live.idp.provider.start_session(user)
    cookie = f"tessera-csrf={live.csrf_cookie}; tessera-session={session}"
    assert (
        live.send("GET", "/authorize?" + urlencode(live.idp.authorize_params()), cookie=cookie).status_code
        == 302
    )
    body = urlencode({"csrf": live.csrf, "client_id": "spa", "post_logout_redirect_uri": _BYE, "state": "s"})
    ended = live.send("POST", "/logout", content=body.encode(), headers=[FORM], cookie=cookie)
    assert ended.status_code == 303 and ended.headers["location"] == _BYE + "?state=s"
    assert (
        live.send("GET", "/authorize?" + urlencode(live.idp.authorize_params()), cookie=cookie).status_code
        == 303
    )


_DOCUMENTS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks")


@FUZZ
@given(data=st.data())
def test_g1_g2_metadata_ignores_junk_queries(live: Live, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_DOCUMENTS))
    query = data.draw(
        often(
            forms({"issuer": values(ISSUER), "kid": values()}),
            st.sampled_from(["%ff", "a=%c3%28", "&&", "="]),
        )
    )
    headers = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(["Accept", "If-None-Match", "X-Forwarded-Host", "Origin"]),
                header_text.map(lambda v: v.encode("latin-1")),
            ),
            max_size=3,
        )
    )
    before = live.state()
    response = live.send("GET", f"{path}?{query}", headers=headers)
    assert response.status_code == 200
    assert response.json() == live.send("GET", path).json()
    assert changed_tables(before, live.state()) == {}


_ALL_PATHS = (*_DOCUMENTS, *_POST_PATHS, "/authorize", "/authorize/continue", "/signin/done", "/demo/hello")


@FUZZ
@given(data=st.data())
def test_g1_g2_unexpected_methods_and_preflights(live: Live, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_ALL_PATHS))
    method = data.draw(st.sampled_from(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "GET", "POST"]))
    headers = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]
                ),
                often(st.sampled_from(["http://127.0.0.1:5173", "POST", "authorization"]), header_text).map(
                    lambda v: v.encode("latin-1")
                ),
            ),
            max_size=3,
        )
    )
    before = live.state()
    response = live.send(method, path, headers=headers)
    event(f"{method} {response.status_code}")
    assert changed_tables(before, live.state()) == {}
    _genuine_client_credentials(live)


@FUZZ
@given(data=st.data())
def test_g1_g2_sign_in_and_consent_pages_fuzz(live: Live, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/signin", "/signin/code", "/signin/done", "/consent"]))
    query = data.draw(forms({"request": values(live.pending)}))
    before = live.state()
    response = live.send("GET", f"{path}?{query}", cookie=data.draw(live.cookies(signin=True)))
    event(f"{path} {response.status_code}")
    assert response.status_code in (200, 400, 403)
    assert response.headers["x-frame-options"] == "DENY"
    assert changed_tables(before, live.state()) == {}
    page = live.send("GET", f"/signin?request={live.pending}")
    assert page.status_code == 200 and _hidden(page.text) == {
        "csrf": _hidden(page.text)["csrf"],
        "request": live.pending,
    }


def _fresh_code(live: Live) -> tuple[str, str, str]:
    """A new code for ``spa`` from the signed-in session: (code, verifier, challenge)."""
    params = live.idp.authorize_params("spa")
    issued = live.send("GET", "/authorize?" + urlencode(params), cookie=f"tessera-session={live.session}")
    assert issued.status_code == 302, issued.headers.get("location")
    return query_of(issued.headers["location"])["code"], live.idp.last_verifier, params["code_challenge"]


_CODE_BURNED = {"codes": frozenset({"consumed"})}  # a wrong verifier burns the code (AS-13)


@FUZZ
@given(data=st.data())
def test_g1_g2_code_redemption_fuzz(live: Live, data: st.DataObject) -> None:
    code, verifier, challenge = _fresh_code(live)
    fields = {
        "code": values(code),
        "code_verifier": values(verifier, verifier[:-1] + "A", challenge, verifier + "~" * 90, "a" * 42),
        "redirect_uri": values(SPA_REDIRECT, SPA_REDIRECT + "/", "http://127.0.0.1:5174/callback"),
        "scope": values("openid admin"),
    }
    form = {"grant_type": "authorization_code", "client_id": data.draw(often(st.just("spa"), values("web")))}
    body = "&".join(filter(None, [urlencode(form), data.draw(forms(fields))]))
    before = live.state(_CODE_BURNED)
    response = live.send("POST", "/token", content=body.encode(), headers=[FORM])
    event(f"{response.status_code} {response.json().get('error', '')}")
    if response.status_code != 200:
        assert_oauth_error(response)
        assert changed_tables(before, live.state(_CODE_BURNED)) == {}
    genuine_code, genuine_verifier, _ = _fresh_code(live)
    redeemed = live.send(
        "POST",
        "/token",
        content=urlencode(
            {
                "grant_type": "authorization_code",
                "client_id": "spa",
                "code": genuine_code,
                "code_verifier": genuine_verifier,
                "redirect_uri": SPA_REDIRECT,
            }
        ).encode(),
        headers=[FORM],
    )
    assert redeemed.status_code == 200 and redeemed.json()["id_token"]
