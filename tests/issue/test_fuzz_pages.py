"""G1, G2, G4 by fuzzing the browser-facing pages: authorize, sign-in, consent and logout.

The same shared provider and properties as ``test_fuzz_endpoints``: no 5xx or stack trace, no
redirect but to our own pages or a registered redirect URI, and a rejected request writes
nothing (a wrong one-time code may spend an attempt, G2). Each example then makes a genuine
request that must still work.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tessera.testing.idp import (
    FULL_SCOPE,
    ISSUER,
    PARTNER_REDIRECT,
    SPA_REDIRECT,
    WEB_REDIRECT,
    pkce_pair,
    query_of,
)

from .fuzz_inputs import FUZZ, changed_tables, forms, header_text, often, values
from .fuzz_live import FORM, Live, hidden, page_fields

_ATTEMPTS = {"one_time_codes": frozenset({"attempts"})}  # a wrong one-time code burns an attempt (G2)
_REDIRECTS = (SPA_REDIRECT, WEB_REDIRECT, PARTNER_REDIRECT, "https://app.example/cb2")
_LOOPBACK_CALLBACK = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+/callback\?")


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
    fields = page_fields(live)
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
    assert page.status_code == 200 and hidden(page.text)["csrf"]
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
    fields = page_fields(live)
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
    assert shown.status_code == 200 and hidden(shown.text)["csrf"] == live.consent_csrf


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
        assert genuine.status_code == 200 and hidden(genuine.text)["csrf"]

    hostile()
    user = live.idp.store.get_user("usr_bob")
    assert user is not None
    session = live.idp.provider.start_session(user, ("otp",))
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
    assert page.status_code == 200 and hidden(page.text) == {
        "csrf": hidden(page.text)["csrf"],
        "request": live.pending,
    }
