"""Revocation, introspection, metadata, JWKS, userinfo, logout and the token profile (AS-53..AS-58)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tessera.encoding import b64url_decode, json_object
from tessera.testing.forge import bad_signature
from tessera.testing.idp import ISSUER, ProviderHarness, query_of

WEB_SECRET = "web-secret-" + "x" * 40
SVC_SECRET = "svc-secret-" + "y" * 40


def _revoke(idp: ProviderHarness, token: str, auth: tuple[str, str] | None = None, **form: str) -> Any:
    extra: dict[str, Any] = {"auth": auth} if auth is not None else {}
    return idp.new_browser().post("/revoke", data={"token": token, **form}, **extra)


def test_as53_revoking_a_refresh_token_revokes_the_grant(idp: ProviderHarness) -> None:
    tokens = idp.tokens("web")
    assert _revoke(idp, tokens["refresh_token"], ("web", WEB_SECRET)).status_code == 200
    assert idp.introspect(tokens["access_token"]) == {"active": False}
    refreshed = idp.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=("web", WEB_SECRET)
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_as53_another_client_cannot_revoke(idp: ProviderHarness) -> None:
    tokens = idp.tokens("web")
    assert _revoke(idp, tokens["refresh_token"], ("svc", SVC_SECRET)).status_code == 200
    assert _revoke(idp, tokens["access_token"], ("svc", SVC_SECRET)).status_code == 200
    assert idp.introspect(tokens["access_token"])["active"] is True
    assert idp.introspect(tokens["refresh_token"])["active"] is True


def test_as53_unknown_token_200_and_unauthenticated_401(idp: ProviderHarness) -> None:
    assert _revoke(idp, "no-such-token", ("web", WEB_SECRET)).status_code == 200
    unauthenticated = _revoke(idp, "x", client_id="web")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"


def test_as53_public_client_revokes_its_access_token(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    assert idp.hello(tokens["access_token"]).status_code == 200
    assert _revoke(idp, tokens["access_token"], client_id="spa").status_code == 200
    assert idp.hello(tokens["access_token"]).status_code == 401


def test_as53_client_credentials_token_is_recorded_only_once_revoked(idp: ProviderHarness) -> None:
    token = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()["access_token"]
    jti = json_object(b64url_decode(token.split(".")[1]))["jti"]
    assert idp.store.get_access_token(jti) is None
    assert idp.introspect(token, ("svc", SVC_SECRET))["active"] is True
    assert _revoke(idp, token, ("web", WEB_SECRET)).status_code == 200
    assert idp.introspect(token, ("svc", SVC_SECRET))["active"] is True
    assert _revoke(idp, bad_signature(token), ("svc", SVC_SECRET)).status_code == 200
    assert idp.introspect(token, ("svc", SVC_SECRET))["active"] is True
    assert _revoke(idp, token, ("svc", SVC_SECRET)).status_code == 200
    record = idp.store.get_access_token(jti)
    assert record is not None and record.revoked and record.client_id == "svc"
    assert idp.introspect(token, ("svc", SVC_SECRET)) == {"active": False}
    other = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()["access_token"]
    assert idp.introspect(other, ("svc", SVC_SECRET))["active"] is True


def test_as54_introspection(idp: ProviderHarness) -> None:
    tokens = idp.tokens("web")
    unauthenticated = idp.new_browser().post("/introspect", data={"token": tokens["access_token"]})
    assert unauthenticated.status_code == 401
    public = idp.new_browser().post("/introspect", data={"token": tokens["access_token"], "client_id": "spa"})
    assert public.status_code == 401
    active = idp.introspect(tokens["access_token"])
    assert active["active"] is True
    assert active["sub"] == "usr_alice"
    assert active["client_id"] == "web"
    assert idp.introspect(tokens["access_token"], ("svc", SVC_SECRET)) == {"active": False}
    assert idp.introspect("garbage") == {"active": False}
    assert idp.introspect(bad_signature(tokens["access_token"])) == {"active": False}
    idp.clock.advance(901)
    assert idp.introspect(tokens["access_token"]) == {"active": False}


def test_as55_discovery_metadata(idp: ProviderHarness) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = idp.browser.get(path).json()
        assert meta["issuer"] == ISSUER
        endpoints = [v for k, v in meta.items() if k.endswith("_endpoint") or k == "jwks_uri"]
        assert endpoints
        assert all(e.startswith(ISSUER + "/") for e in endpoints)
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert not any("token" in rt for rt in meta["response_types_supported"])
        assert {"password", "implicit"}.isdisjoint(meta["grant_types_supported"])
        assert meta["authorization_response_iss_parameter_supported"] is True
        for name, values in meta.items():
            if name.endswith("_signing_alg_values_supported"):
                assert "none" not in values


def test_as55_https_issuer_has_https_endpoints(tmp_path: Any) -> None:
    idp = ProviderHarness(tmp_path, issuer="https://id.example.test")
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == "https://id.example.test"
    assert all(v.startswith("https://") for k, v in meta.items() if k.endswith("_endpoint"))
    idp.store.close()


def test_as56_jwks_has_public_members_only(idp: ProviderHarness) -> None:
    jwks = idp.browser.get("/jwks").json()
    kids = [k["kid"] for k in jwks["keys"]]
    assert len(kids) == len(set(kids)) == 3
    for key in jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi", "oth", "k"} & set(key)
        assert key["use"] == "sig"
        assert key["alg"] == "RS256"
        assert len(b64url_decode(key["n"])) * 8 >= 2048


def test_as58_access_token_profile(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    header_b64, payload_b64, _ = tokens["access_token"].split(".")
    header = json_object(b64url_decode(header_b64))
    claims = json_object(b64url_decode(payload_b64))
    assert header["typ"] == "at+jwt"
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] <= 900
    assert "email" not in claims
    assert "name" not in claims
    service = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()
    service_claims = json_object(b64url_decode(service["access_token"].split(".")[1]))
    assert service_claims["sub"] == "svc"
    assert not service_claims["sub"].startswith("usr_")
    assert claims["sub"].startswith("usr_")


def test_access_token_lifetime_is_configurable_within_limits(tmp_path: Any) -> None:
    from tessera.errors import ConfigurationError
    from tessera.issue.settings import ProviderSettings

    for bad in (299, 3601):
        with pytest.raises(ConfigurationError):
            ProviderSettings(issuer=ISSUER, access_token_seconds=bad)
    idp = ProviderHarness(tmp_path, access_token_seconds=3600)
    body = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()
    assert body["expires_in"] == 3600
    idp.store.close()


def test_userinfo(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    response = idp.new_browser().get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.json() == {
        "sub": "usr_alice",
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice",
    }
    missing = idp.new_browser().get("/userinfo")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = idp.new_browser().get(
        "/userinfo", headers={"Authorization": f"Bearer {bad_signature(tokens['access_token'])}"}
    )
    assert forged.status_code == 401
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    service = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()
    no_openid = idp.new_browser().get(
        "/userinfo", headers={"Authorization": f"Bearer {service['access_token']}"}
    )
    assert no_openid.status_code == 403


def test_demo_api_scope_and_role(idp: ProviderHarness) -> None:
    alice = idp.tokens()
    idp.browser = idp.new_browser()
    bob = idp.tokens(email="bob@example.com")
    admin = {"Authorization": f"Bearer {alice['access_token']}"}
    assert idp.new_browser().get("/demo/admin", headers=admin).json()["subject"] == "usr_alice"
    denied = idp.new_browser().get("/demo/admin", headers={"Authorization": f"Bearer {bob['access_token']}"})
    assert denied.status_code == 403
    narrow = idp.tokens(scope="openid")
    assert idp.hello(narrow["access_token"]).status_code == 403
    assert idp.hello(alice["access_token"]).status_code == 200


def _logout(idp: ProviderHarness, **params: str) -> Any:
    page = idp.browser.get("/logout", params=params)
    return page


def test_as05_logout_refuses_unregistered_post_logout_redirect(idp: ProviderHarness) -> None:
    idp.tokens()
    bad = _logout(idp, client_id="spa", post_logout_redirect_uri="https://evil.example/bye")
    assert bad.status_code == 400
    assert "location" not in bad.headers
    good = _logout(idp, client_id="spa", post_logout_redirect_uri="https://app.example/bye", state="s1")
    assert good.status_code == 200


def test_web05_logout_revokes_session_and_family(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    session_cookie = idp.browser.cookies.get("tessera-session")
    assert session_cookie
    page = _logout(idp, client_id="spa", post_logout_redirect_uri="https://app.example/bye", state="s1")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    cross_site = idp.browser.post("/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    done = idp.browser.post(
        "/logout",
        data={
            "csrf": csrf,
            "client_id": "spa",
            "post_logout_redirect_uri": "https://app.example/bye",
            "state": "s1",
        },
    )
    assert done.status_code == 303
    assert query_of(done.headers["location"]) == {"state": "s1"}
    assert "tessera-session=;" in done.headers["set-cookie"]
    assert "Max-Age=0" in done.headers["set-cookie"]
    replay = idp.new_browser()
    replay.cookies.set("tessera-session", session_cookie)
    again = replay.get("/authorize", params=idp.authorize_params(prompt="none"))
    assert query_of(again.headers["location"])["error"] == "login_required"
    assert idp.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert idp.hello(tokens["access_token"]).status_code == 401


def test_basic_header_base64_padding_variants_rejected(idp: ProviderHarness) -> None:
    raw = base64.b64encode(f"svc:{SVC_SECRET}".encode()).decode()
    ok = idp.new_browser().post(
        "/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {raw}"}
    )
    assert ok.status_code == 200
    broken = idp.new_browser().post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw.rstrip('=')}"},
    )
    assert broken.status_code == 401


def test_tokens_signed_on_the_event_loop_are_the_same_tokens(tmp_path: Any) -> None:
    inline = ProviderHarness(tmp_path, work_in_thread=False)
    assert inline.provider.settings.work_in_thread is False
    tokens = inline.tokens("web")
    assert inline.hello(tokens["access_token"]).status_code == 200
    assert inline.introspect(tokens["access_token"])["active"] is True
    assert inline.hello(bad_signature(tokens["access_token"])).status_code == 401
    service = inline.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET)).json()
    assert inline.introspect(service["access_token"], ("svc", SVC_SECRET))["active"] is True
    inline.store.close()


def test_userinfo_reads_the_authorization_header_as_the_demo_api_does(idp: ProviderHarness) -> None:
    token = idp.tokens()["access_token"]
    browser = idp.new_browser()
    variants = {
        f"Bearer {token}": 200,
        f"Bearer  {token}": 200,  # RFC 6750 §2.1: one or more spaces
        f"bearer   {token}": 200,
        f"Bearer {token} x": 401,
        f"Bearer {bad_signature(token)}": 401,
        "Bearer": 401,
        f"Basic {token}": 401,
        "Bearer é": 400,
    }
    for value, expected in variants.items():
        headers = {b"Authorization": value.encode()}
        userinfo = browser.get("/userinfo", headers=headers)
        demo = browser.get("/demo/hello", headers=headers)
        assert (userinfo.status_code, demo.status_code) == (expected, expected), value
        if expected == 200:
            assert userinfo.json()["sub"] == demo.json()["subject"] == "usr_alice"
        else:
            challenge = userinfo.headers["www-authenticate"]
            assert challenge.startswith("Bearer"), challenge


def test_logout_with_client_id_and_id_token_hint_needs_the_hint_issued_to_that_client(
    idp: ProviderHarness,
) -> None:
    hint = idp.tokens()["id_token"]
    bye = "https://app.example/bye"
    for client_id, given in (("partner", hint), ("spa", "a.b.c"), ("spa", bad_signature(hint))):
        refused = _logout(idp, client_id=client_id, id_token_hint=given, post_logout_redirect_uri=bye)
        assert refused.status_code == 400, client_id
        assert "csrf" not in refused.text
        assert _logout(idp, client_id=client_id, id_token_hint=given).status_code == 400
    page = _logout(idp, client_id="spa", id_token_hint=hint, post_logout_redirect_uri=bye, state="s1")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = {"csrf": csrf, "id_token_hint": hint, "post_logout_redirect_uri": bye}
    assert idp.browser.post("/logout", data={**form, "client_id": "partner"}).status_code == 400
    still = idp.browser.get("/authorize", params=idp.authorize_params(prompt="none"))
    assert "code" in query_of(still.headers["location"])  # the refused POST ended nothing
    done = idp.browser.post("/logout", data={**form, "client_id": "spa"})
    assert done.status_code == 303 and done.headers["location"] == bye
    hint_alone = _logout(idp, id_token_hint=hint, post_logout_redirect_uri=bye)
    assert hint_alone.status_code == 200  # the hint names the client (its leeway used to raise)
