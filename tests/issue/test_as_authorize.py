"""The authorization endpoint against the catalogue's AS-01..AS-34 (through HTTP, in process)."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlencode, urlsplit

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.redirects import check_registered_uri
from tessera.testing.idp import ISSUER, SPA_REDIRECT, WEB_REDIRECT, ProviderHarness, pkce_pair, query_of


def _codes(idp: ProviderHarness) -> int:
    with sqlite3.connect(idp.store.path) as db:
        count: int = db.execute("SELECT COUNT(*) FROM codes").fetchone()[0]
    return count


def _signed_in(idp: ProviderHarness) -> None:
    idp.sign_in(idp.authorize_params())


def _redirected_error(idp: ProviderHarness, **overrides: str | None) -> dict[str, str]:
    params = idp.authorize_params("spa", **overrides)
    response = idp.authorize(params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(params.get("redirect_uri", SPA_REDIRECT) + "?")
    answer = query_of(location)
    assert "code" not in answer
    assert answer["iss"] == ISSUER
    assert answer["state"] == params["state"]
    return answer


def _genuine_code(idp: ProviderHarness, **overrides: str | None) -> dict[str, str]:
    response = idp.authorize(idp.authorize_params("spa", **overrides))
    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert answer["code"]
    return answer


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://app.example/cb#f",
        "https://APP.example/cb",
        "http://app.example/cb",
        "https://app.example:443/cb",
        "https://app.example/cb/../evil",
        "https://app.example/cb%2F..%2Fevil",
        "https://app.example.evil.com/cb",
        "https://app.example@evil.com/cb",
        "https://app.example\\@evil.com/cb",
        "//evil.com/cb",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://127.0.0.1:5173@evil.com/callback",
        "http://127.0.0.1:5173/callback/",
        "http://127.0.0.1:05173/callback",
        "http://127.0.0.1:99999/callback",
        "http://localhost.evil.com:5173/callback",
    ],
)
def test_as01_redirect_uri_must_match_exactly(idp: ProviderHarness, redirect_uri: str) -> None:
    _signed_in(idp)
    before = _codes(idp)
    response = idp.authorize(idp.authorize_params(redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert _codes(idp) == before
    assert _genuine_code(idp, redirect_uri=WEB_REDIRECT)["code"]


def test_as01_loopback_port_may_vary_rfc8252(idp: ProviderHarness) -> None:
    _signed_in(idp)
    for uri in ("http://127.0.0.1:1/callback", "http://127.0.0.1:65535/callback"):
        response = idp.authorize(idp.authorize_params(redirect_uri=uri))
        assert response.headers["location"].startswith(uri + "?code=")


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb#frag",
        "https://*.example/cb",
        "http://app.example/cb",
        "myapp://callback",
        "https://user:pw@app.example/cb",
    ],
)
def test_as02_redirect_uris_refused_at_registration(uri: str) -> None:
    with pytest.raises(ConfigurationError):
        check_registered_uri(uri)
    check_registered_uri("https://app.example/cb")
    check_registered_uri("http://127.0.0.1:*/callback")


def test_as03_redirect_uri_omitted_with_several_registered(idp: ProviderHarness) -> None:
    _signed_in(idp)
    response = idp.authorize(idp.authorize_params("web", redirect_uri=None))
    assert response.status_code == 400
    assert "location" not in response.headers
    single = idp.authorize(idp.authorize_params("legacy", redirect_uri=None, scope="openid"))
    assert single.headers["location"].startswith(WEB_REDIRECT + "?code=")


@pytest.mark.parametrize("client_id", [None, "unknown", "x" * 10_000])
def test_as04_unknown_or_missing_client_id(idp: ProviderHarness, client_id: str | None) -> None:
    _signed_in(idp)
    response = idp.authorize(idp.authorize_params(client_id))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert _genuine_code(idp)["code"]


def test_as04_empty_client_id(idp: ProviderHarness) -> None:
    query = urlencode(idp.authorize_params()).replace("client_id=spa", "client_id=")
    response = idp.authorize(query)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_as05_errors_redirect_only_to_registered_uri(idp: ProviderHarness) -> None:
    answer = _redirected_error(idp, scope="openid admin")
    assert answer["error"] == "invalid_scope"
    answer = _redirected_error(idp, response_type="token")
    assert answer["error"] == "unsupported_response_type"
    answer = _redirected_error(idp, prompt="none")
    assert answer["error"] == "login_required"
    bad = idp.authorize(idp.authorize_params(redirect_uri="https://evil.example/cb", scope="openid admin"))
    assert bad.status_code == 400
    assert "location" not in bad.headers


@pytest.mark.parametrize("response_type", ["token", "id_token token", "code token", "code id_token"])
def test_as06_implicit_and_hybrid_disabled(idp: ProviderHarness, response_type: str) -> None:
    _signed_in(idp)
    response = idp.authorize(idp.authorize_params(response_type=response_type))
    location = response.headers["location"]
    assert "#" not in location
    assert query_of(location)["error"] == "unsupported_response_type"
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert meta["response_types_supported"] == ["code"]
    assert _genuine_code(idp)["code"]


def test_as07_response_type_missing_or_duplicated(idp: ProviderHarness) -> None:
    _signed_in(idp)
    assert _redirected_error(idp, response_type=None)["error"] == "invalid_request"
    query = urlencode(idp.authorize_params()) + "&response_type=token"
    response = idp.authorize(query)
    assert query_of(response.headers["location"])["error"] == "invalid_request"
    assert _genuine_code(idp)["code"]


def test_as08_pkce_required_for_public_and_by_default(idp: ProviderHarness) -> None:
    _signed_in(idp)
    answer = _redirected_error(idp, code_challenge=None, code_challenge_method=None)
    assert answer["error"] == "invalid_request"
    web = idp.authorize(idp.authorize_params("web", code_challenge=None, code_challenge_method=None))
    assert query_of(web.headers["location"])["error"] == "invalid_request"
    assert _genuine_code(idp)["code"]


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
def test_as09_pkce_method_downgrade(idp: ProviderHarness, method: str | None) -> None:
    _signed_in(idp)
    assert _redirected_error(idp, code_challenge_method=method)["error"] == "invalid_request"
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert _genuine_code(idp)["code"]


@pytest.mark.parametrize(
    "challenge", ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + "/", "a" * 42 + "=", "a" * 42 + " "]
)
def test_as10_code_challenge_syntax(idp: ProviderHarness, challenge: str) -> None:
    _signed_in(idp)
    assert _redirected_error(idp, code_challenge=challenge)["error"] == "invalid_request"
    assert _genuine_code(idp)["code"]


def test_as22_state_echoed_byte_exact(idp: ProviderHarness) -> None:
    _signed_in(idp)
    state = "a&b#c=d é \x00 " + "x" * 2000
    response = idp.authorize(idp.authorize_params(state=state))
    assert query_of(response.headers["location"])["state"] == state


def test_as24_iss_in_success_and_error_responses(idp: ProviderHarness) -> None:
    _signed_in(idp)
    assert _genuine_code(idp)["iss"] == ISSUER
    assert _redirected_error(idp, scope="nope")["iss"] == ISSUER
    meta = idp.browser.get("/.well-known/openid-configuration").json()
    assert meta["authorization_response_iss_parameter_supported"] is True


def test_as26_prompt_none_without_session_and_prompt_login_forces_sign_in(idp: ProviderHarness) -> None:
    assert _redirected_error(idp, prompt="none")["error"] == "login_required"
    _signed_in(idp)
    assert _genuine_code(idp, prompt="none")["code"]
    forced = idp.authorize(idp.authorize_params(prompt="login"))
    assert forced.status_code == 303
    assert "/signin?request=" in forced.headers["location"]


def test_as26_max_age_forces_reauthentication_and_auth_time(idp: ProviderHarness) -> None:
    _signed_in(idp)
    idp.clock.advance(2)
    stale = idp.authorize(idp.authorize_params(max_age="1"))
    assert stale.status_code == 303
    assert "/signin?request=" in stale.headers["location"]
    fresh = idp.authorize(idp.authorize_params(max_age="3600"))
    assert query_of(fresh.headers["location"])["code"]
    code, verifier, _params = idp.code(max_age="1")
    body = idp.exchange(code, verifier).json()
    from tessera.verify import Verifier

    jwks = idp.browser.get("/jwks").json()
    claims = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock).verify(
        body["id_token"]
    )
    assert idp.clock.now - claims["auth_time"] <= 1


def test_as27_duplicate_parameters(idp: ProviderHarness) -> None:
    _signed_in(idp)
    base = urlencode(idp.authorize_params())
    for extra in ("&client_id=web", "&redirect_uri=" + SPA_REDIRECT):
        response = idp.authorize(base + extra)
        assert response.status_code == 400
        assert "location" not in response.headers
    response = idp.authorize(base + "&scope=openid")
    assert query_of(response.headers["location"])["error"] == "invalid_request"
    assert idp.authorize(base).status_code == 302


def test_as28_unknown_parameters_ignored(idp: ProviderHarness) -> None:
    _signed_in(idp)
    assert _genuine_code(idp, foo="bar", extra="x" * 100)["code"]


def test_as29_request_objects_unsupported_and_never_fetched(
    idp: ProviderHarness, http_server: object
) -> None:
    from tessera.testing import LocalHTTPServer

    assert isinstance(http_server, LocalHTTPServer)
    _signed_in(idp)
    answer = _redirected_error(idp, request_uri=f"{http_server.url}/ro")
    assert answer["error"] == "request_uri_not_supported"
    assert _redirected_error(idp, request="e30.e30.")["error"] == "request_not_supported"
    assert http_server.total() == 0


def test_as30_scope_limits(idp: ProviderHarness) -> None:
    _signed_in(idp)
    assert _redirected_error(idp, scope="openid unknown")["error"] == "invalid_scope"
    assert _redirected_error(idp, scope=" ".join(f"s{i}" for i in range(10_000)))["error"] == "invalid_scope"
    assert _genuine_code(idp, scope="openid demo:read")["code"]


def test_as31_as34_pages_cannot_be_framed_and_send_no_referrer_elsewhere(idp: ProviderHarness) -> None:
    page = idp.authorize(idp.authorize_params())
    signin = idp.browser.get(page.headers["location"])
    assert signin.status_code == 200
    assert "frame-ancestors 'none'" in signin.headers["content-security-policy"]
    assert signin.headers["x-frame-options"] == "DENY"
    # same-origin: no Referer to any other site, and the page's own POSTs keep a real Origin
    # (no-referrer made browsers send `Origin: null`, which the CSRF check refuses)
    assert signin.headers["referrer-policy"] == "same-origin"
    assert "https://" not in signin.text.replace(ISSUER, "")
    _signed_in(idp)
    code_redirect = idp.authorize(idp.authorize_params())
    assert code_redirect.headers["referrer-policy"] == "no-referrer"
    assert code_redirect.headers["cache-control"] == "no-store"


def test_as32_no_cors_on_authorize(idp: ProviderHarness) -> None:
    params = idp.authorize_params()
    response = idp.browser.get(f"/authorize?{urlencode(params)}", headers={"Origin": "https://spa.example"})
    preflight = idp.browser.options(
        "/authorize", headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "GET"}
    )
    for answer in (response, preflight):
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")]
    discovery = idp.browser.get(
        "/.well-known/openid-configuration", headers={"Origin": "https://spa.example"}
    )
    assert discovery.headers["access-control-allow-origin"] == "*"


def test_as33_sign_in_posts_answer_303(idp: ProviderHarness) -> None:
    start = idp.authorize(idp.authorize_params())
    assert start.status_code == 303
    callback = idp.sign_in(idp.authorize_params())
    assert urlsplit(callback).path == "/callback"


def test_as23_nonce_carried_exactly_and_optional(idp: ProviderHarness) -> None:
    from tessera.verify import Verifier

    jwks = idp.browser.get("/jwks").json()
    verifier = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock)
    nonce = "n-ü &=%?#"
    body = idp.tokens(nonce=nonce)
    assert verifier.verify(body["id_token"])["nonce"] == nonce
    without = idp.tokens(nonce=None)
    assert "nonce" not in verifier.verify(without["id_token"])


def test_pkce_pair_helper_is_s256() -> None:
    verifier, challenge = pkce_pair()
    assert len(challenge) == 43
    assert verifier != challenge


def test_third_party_clients_ask_for_consent_and_prompt_none_gets_consent_required(
    idp: ProviderHarness,
) -> None:
    from tessera.issue.clients import register_client
    from tessera.store import ClientRecord

    register_client(
        idp.store,
        ClientRecord(client_id="third", redirect_uris=(WEB_REDIRECT,), first_party=False, scopes=("openid",)),
    )
    _signed_in(idp)
    before = _codes(idp)
    asked = idp.authorize(idp.authorize_params("third", scope="openid"))
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/consent?request=")
    refused = idp.authorize(idp.authorize_params("third", scope="openid", prompt="none"))
    assert query_of(refused.headers["location"])["error"] == "consent_required"
    assert _codes(idp) == before
    assert _genuine_code(idp)["code"]


def test_as27_repeat_with_an_empty_first_value_is_still_a_repeat(idp: ProviderHarness) -> None:
    _signed_in(idp)
    base = urlencode(idp.authorize_params())
    response = idp.authorize("client_id=&" + base)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert idp.authorize(base).status_code == 302
