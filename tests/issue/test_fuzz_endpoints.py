"""G1, G2, G4 by fuzzing the back channel: hostile input gets a clean 4xx and writes nothing.

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

from typing import Any
from urllib.parse import urlencode

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tessera.issue.endpoints.client_auth import ASSERTION_TYPE
from tessera.testing.idp import ISSUER, LEGACY_SECRET, SPA_REDIRECT, SVC_SECRET, WEB_SECRET, query_of

from .fuzz_inputs import (
    BEARER_ERRORS,
    FUZZ,
    assert_oauth_error,
    authorization_headers,
    changed_tables,
    forms,
    header_text,
    malformed_bodies,
    often,
    values,
)
from .fuzz_live import (
    CLIENT_FIELDS,
    FORM,
    Live,
    basic,
    fresh_assertion,
    genuine_client_credentials,
    page_cookie,
    page_fields,
    svc_basic,
    token_fields,
)


@st.composite
def _credentials(draw: st.DrawFn, live: Live) -> tuple[str, list[tuple[str, Any]], dict[str, str]]:
    """Who calls: a genuine client (each authentication method) or junk; its headers and form fields."""
    who = draw(st.sampled_from(["svc", "web", "spa", "jwt-client", "legacy", "junk"]))
    if who == "svc":
        return who, [basic("svc", SVC_SECRET)], {}
    if who == "legacy":
        return who, [basic("legacy", LEGACY_SECRET)], {}
    if who == "web":
        return who, [], {"client_id": "web", "client_secret": WEB_SECRET}
    if who == "spa":
        return who, [], {"client_id": "spa"}
    if who == "jwt-client":
        return who, [], {"client_assertion_type": ASSERTION_TYPE, "client_assertion": fresh_assertion(live)}
    return who, draw(authorization_headers(("svc", SVC_SECRET))), {}


@settings(FUZZ, max_examples=180)
@given(data=st.data())
def test_g1_g2_token_endpoint_fuzz(live: Live, data: st.DataObject) -> None:
    who, auth, credentials = data.draw(_credentials(live))
    fields = token_fields(live)
    if who != "junk":
        fields = {name: fields[name] for name in fields if name not in CLIENT_FIELDS}
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
    genuine_client_credentials(live)


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
    body, headers = data.draw(malformed_bodies(token_fields(live) | page_fields(live)))
    genuine_auth = data.draw(st.booleans())
    extra = (
        [basic("svc", SVC_SECRET)] if genuine_auth and path in ("/token", "/revoke", "/introspect") else []
    )
    before = live.state()
    response = live.send(
        "POST", path, content=body, headers=[*headers.items(), *extra], cookie=page_cookie(live)
    )
    event(f"{path}: {response.status_code}")
    if path in ("/token", "/revoke", "/introspect"):
        assert response.status_code in (400, 401)
        assert_oauth_error(response)
    elif path != "/userinfo":
        assert response.status_code in (400, 403)
    assert changed_tables(before, live.state()) == {}
    genuine_client_credentials(live)


def _introspect(live: Live, token: str, client: tuple[str, str] = ("svc", SVC_SECRET)) -> dict[str, Any]:
    response = live.send(
        "POST", "/introspect", content=urlencode({"token": token}).encode(), headers=[basic(*client), FORM]
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
            return who, [basic(who, secret)], {}
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
        fields |= {name: strategy for name, strategy in token_fields(live).items() if name in CLIENT_FIELDS}
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
        if response.json()["error"] == "invalid_client" and auth:
            assert response.headers["www-authenticate"].startswith("Basic")
    elif path == "/revoke":
        assert response.status_code == 200 and response.content == b""
    else:
        introspection = response.json()
        assert introspection == {"active": False} or introspection["client_id"] == who, introspection
    assert _introspect(live, live.service_token)["active"] is True
    if path == "/revoke":
        fresh = live.send(
            "POST", "/token", content=b"grant_type=client_credentials", headers=svc_basic()
        ).json()
        revoked = live.send(
            "POST",
            "/revoke",
            content=urlencode({"token": fresh["access_token"]}).encode(),
            headers=svc_basic(),
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
        assert len(auth) == 1
        scheme, _, token = auth[0][1].decode("latin-1").partition(" ")
        assert scheme.lower() == "bearer" and token.lstrip(" ") == live.user_token  # RFC 6750 §2.1
        assert response.json()["sub"] == "usr_alice"
    elif response.json() == {}:
        # RFC 6750 §3.1: no bearer token at all (none, or another scheme), no error code
        assert response.status_code == 401
        assert not auth or (len(auth) == 1 and auth[0][1].partition(b" ")[0].lower() != b"bearer")
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert_oauth_error(response, BEARER_ERRORS)
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer error=")
    genuine = live.send("GET", "/userinfo", headers=[("Authorization", f"Bearer {live.user_token}")])
    assert genuine.status_code == 200 and genuine.json()["sub"] == "usr_alice"


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
    genuine_client_credentials(live)
