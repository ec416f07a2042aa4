"""A federated sign-in end to end over real HTTP to the upstream: Tessera's tokens, amr fed, idp."""

from __future__ import annotations

import logging

import pytest

from tessera.issue.assurance import ACR_MULTI_FACTOR
from tessera.testing.idp import ISSUER, ProviderHarness, query_of
from tessera.testing.upstream import FakeUpstream
from tessera.verify import Verifier

from ...totp_steps import at_client, claims_of, enrol, now_code, submit_totp
from .harness import Walk, refused


def test_sign_in_creates_a_linked_user_and_issues_tessera_tokens(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "tessera.audit")
    location = walk.to_upstream()
    assert location.startswith(corp.server.url + "/authorize?")
    tokens = walk.sign_in_from(location)
    jwks = idp.browser.get("/jwks").json()
    access = Verifier(issuer=ISSUER, audience=ISSUER, token_type="at+jwt", jwks=jwks, clock=idp.clock).verify(
        tokens["access_token"]
    )
    assert access["amr"] == ["fed"]
    assert access["idp"] == "corp"
    id_claims = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock).verify(
        tokens["id_token"]
    )
    assert id_claims["amr"] == ["fed"] and id_claims["idp"] == "corp"
    assert id_claims["email"] == "carol@example.com"
    assert id_claims["sub"].startswith("usr_")
    link = idp.store.find_upstream_link("corp", "up-123")
    assert link is not None and link.user_id == id_claims["sub"]
    events = caplog.text
    assert '"event": "user_created"' in events and '"event": "upstream_linked"' in events
    # The upstream's own tokens go nowhere: not in Tessera's answer, not in its store.
    upstream_tokens = set(corp._access)
    assert upstream_tokens and not any(t in str(tokens) for t in upstream_tokens)


def test_the_authorization_request_uses_pkce_s256_state_and_nonce(corp: FakeUpstream, walk: Walk) -> None:
    params = corp.authorize_url_params(walk.to_upstream().split("?", 1)[1])
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 43 and len(params["nonce"]) == 43
    assert params["redirect_uri"] == f"{ISSUER}/upstream/corp/callback"
    assert params["scope"] == "openid email profile"


def test_a_second_sign_in_finds_the_same_user_and_refresh_keeps_fed(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    first = walk.sign_in()
    second = Walk(idp, idp.new_browser()).sign_in()
    assert first["id_token"] != second["id_token"]
    refreshed = idp.refresh(second["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    jwks = idp.browser.get("/jwks").json()
    verifier = Verifier(issuer=ISSUER, audience=ISSUER, token_type="at+jwt", jwks=jwks, clock=idp.clock)
    subjects = {verifier.verify(t["access_token"]).subject for t in (first, second, refreshed.json())}
    assert len(subjects) == 1
    assert verifier.verify(refreshed.json()["access_token"])["idp"] == "corp"


def test_a_local_sign_in_has_no_fed_claims(idp: ProviderHarness, corp: FakeUpstream) -> None:
    tokens = idp.tokens()
    jwks = idp.browser.get("/jwks").json()
    claims = Verifier(issuer=ISSUER, audience=ISSUER, token_type="at+jwt", jwks=jwks, clock=idp.clock).verify(
        tokens["access_token"]
    )
    assert claims["amr"] == ["otp"] and "idp" not in claims


def test_an_upstream_error_ends_on_a_page_with_a_way_back(corp: FakeUpstream, walk: Walk) -> None:
    location = walk.to_upstream()
    callback = walk.at_upstream(location)
    state = callback.split("state=")[1].split("&")[0]
    denied = walk.callback(
        f"/upstream/corp/callback?error=access_denied&state={state}&iss={corp.issuer.issuer}"
    )
    refused(denied, "did not sign you in")
    assert f"/signin?request={walk.request_id}" in denied.text


def test_userinfo_fills_a_claim_the_id_token_lacks(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    corp.person = {"sub": "up-9"}
    corp.userinfo_extra = {"email": "dora@example.com", "email_verified": True}
    tokens = walk.sign_in()
    assert idp.store.find_user_by_email("dora@example.com") is not None
    assert tokens["access_token"]


def test_userinfo_for_another_subject_is_refused(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    corp.person = {"sub": "up-9"}
    corp.userinfo_extra = {"sub": "someone-else", "email": "dora@example.com", "email_verified": True}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "belongs to someone else")
    assert idp.store.find_user_by_email("dora@example.com") is None


def test_acr_values_mfa_steps_a_federated_session_up_and_keeps_its_idp(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    first = walk.sign_in()
    jwks = idp.browser.get("/jwks").json()
    verifier = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock)
    user = idp.store.get_user(verifier.verify(first["id_token"])["sub"])
    assert user is not None
    app, _ = enrol(idp, user)
    mfa = idp.authorize_params(acr_values=ACR_MULTI_FACTOR)
    asked = idp.authorize(mfa, walk.browser)
    assert asked.status_code == 303 and asked.headers["location"] == "/signin/totp"
    code = at_client(walk.browser, submit_totp(walk.browser, now_code(idp, app)))
    id_claims, access, _ = claims_of(idp, code, mfa)
    assert id_claims["amr"] == ["fed", "otp", "mfa"] and id_claims["acr"] == ACR_MULTI_FACTOR
    assert id_claims["idp"] == access["idp"] == "corp"
    assert "code" in query_of(idp.authorize(idp.authorize_params(), walk.browser).headers["location"])
