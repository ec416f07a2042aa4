"""The attacks on a federated sign-in: each forged answer refused, and the genuine one accepted."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from tessera.keys import SigningKey
from tessera.store import User
from tessera.testing.idp import ProviderHarness
from tessera.testing.issuer import LocalIssuer
from tessera.testing.upstream import FakeUpstream

from .harness import Walk, configure, oidc_entry, refused, register


def _answer(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _with(url: str, **changes: str | None) -> str:
    params = {**_answer(url), **changes}
    kept = {k: v for k, v in params.items() if v is not None}
    return f"{urlsplit(url).path}?{urlencode(kept)}"


def _accepted(walk: Walk, callback: str) -> None:
    tokens = walk.finish(walk.callback(callback))
    assert tokens["access_token"]


def test_state_missing_is_refused(corp: FakeUpstream, walk: Walk) -> None:
    callback = walk.at_upstream(walk.to_upstream())
    refused(walk.callback(_with(callback, state=None)), "incomplete")
    _accepted(walk, callback)


def test_state_reused_is_refused(corp: FakeUpstream, walk: Walk) -> None:
    callback = walk.at_upstream(walk.to_upstream())
    _accepted(walk, callback)
    refused(walk.callback(callback), "expired or was already used")


def test_state_from_another_session_is_refused(idp: ProviderHarness, corp: FakeUpstream, walk: Walk) -> None:
    attacker = Walk(idp, idp.new_browser())
    planted = attacker.at_upstream(attacker.to_upstream())
    walk.to_upstream()
    refused(walk.callback(planted), "started in another browser")
    assert idp.store.find_upstream_link("corp", "up-123") is None
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_state_that_expired_is_refused(idp: ProviderHarness, corp: FakeUpstream, walk: Walk) -> None:
    callback = walk.at_upstream(walk.to_upstream())
    idp.clock.advance(601)
    refused(walk.callback(callback), "expired")
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_nonce_mismatch_is_refused(corp: FakeUpstream, walk: Walk) -> None:
    corp.id_token_overrides = {"nonce": "a-nonce-from-another-sign-in"}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "belongs to another sign-in")
    corp.id_token_overrides = {"nonce": None}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "belongs to another sign-in")
    corp.id_token_overrides = {}
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_id_token_for_another_audience_is_refused(corp: FakeUpstream, walk: Walk) -> None:
    corp.id_token_overrides = {"aud": "another-client"}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
    corp.id_token_overrides = {"aud": ["tessera", "another-client"], "azp": "another-client"}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
    corp.id_token_overrides = {"aud": ["tessera", "another-client"], "azp": "tessera"}
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_id_token_from_another_issuer_is_refused(corp: FakeUpstream, walk: Walk) -> None:
    corp.id_token_overrides = {"iss": "https://evil.example"}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
    corp.id_token_overrides = {}
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_id_token_signed_by_an_unknown_key_is_refused(corp: FakeUpstream, walk: Walk) -> None:
    corp.sign_with = SigningKey.generate("RS256")
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
    corp.sign_with = None
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_id_token_with_an_algorithm_discovery_did_not_promise_is_refused(
    idp: ProviderHarness, corp: FakeUpstream
) -> None:
    first = Walk(idp, idp.new_browser())
    _accepted(first, first.at_upstream(first.to_upstream()))  # discovery read: RS256 only
    walk = Walk(idp, idp.new_browser())
    corp.sign_with = corp.issuer.add_key("ES256")  # published in the JWKS afterwards
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
    corp.sign_with = corp.issuer.keys[0]
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_expired_id_token_is_refused(idp: ProviderHarness, corp: FakeUpstream, walk: Walk) -> None:
    now = int(idp.clock())
    corp.id_token_overrides = {"iat": now - 7200, "exp": now - 3600}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
    corp.id_token_overrides = {}
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_code_injected_from_another_session_is_refused(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    attacker = Walk(idp, idp.new_browser())
    stolen_code = _answer(attacker.at_upstream(attacker.to_upstream()))["code"]
    victim_callback = walk.at_upstream(walk.to_upstream())
    # The victim's state and browser, the attacker's code: its PKCE verifier is not the victim's.
    refused(walk.callback(_with(victim_callback, code=stolen_code)), "did not confirm the sign-in")
    assert corp.token_requests[-1]["code"] == stolen_code
    _accepted(walk, walk.at_upstream(walk.to_upstream()))


def test_unverified_email_colliding_with_an_existing_account_is_refused(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    corp.person = {"sub": "up-777", "email": "alice@example.com", "email_verified": False}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "Sign in to it first")
    assert idp.store.find_upstream_link("corp", "up-777") is None
    assert idp.store.upstream_links_of("usr_alice") == ()
    corp.person = {"sub": "up-777", "email": "alice@example.com", "email_verified": True}
    tokens = walk.finish(walk.callback(walk.at_upstream(walk.to_upstream())))
    link = idp.store.find_upstream_link("corp", "up-777")
    assert link is not None and link.user_id == "usr_alice"
    assert tokens["access_token"]


def test_verified_email_does_not_take_over_an_unverified_account(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    idp.store.put_user(User("usr_erin", "erin@example.com", email_verified=False))
    corp.person = {"sub": "up-5", "email": "erin@example.com", "email_verified": True}
    refused(walk.callback(walk.at_upstream(walk.to_upstream())), "Sign in to it first")
    assert idp.store.upstream_links_of("usr_erin") == ()


def test_mix_up_an_answer_for_one_upstream_at_another_is_refused(idp: ProviderHarness) -> None:
    with (
        FakeUpstream(LocalIssuer(), clock=idp.clock) as honest,
        FakeUpstream(LocalIssuer(), clock=idp.clock) as evil,
    ):
        register(honest, idp, "corp")
        register(evil, idp, "other")
        configure(idp, oidc_entry(honest, "corp"), oidc_entry(evil, "other"))
        walk = Walk(idp, idp.browser)
        # Started at corp; the answer is delivered to other's callback (where the attacker would redeem it).
        genuine = walk.at_upstream(walk.to_upstream("corp"))
        refused(walk.callback(genuine.replace("/upstream/corp/", "/upstream/other/")), "wrong sign-in option")
        assert evil.token_requests == []
        # The iss of another upstream on the right callback is refused too (RFC 9207).
        genuine = walk.at_upstream(walk.to_upstream("corp"))
        refused(walk.callback(_with(genuine, iss=evil.issuer.issuer)), "did not come from")
        # An answer without iss, when the upstream's metadata promises one, is refused.
        genuine = walk.at_upstream(walk.to_upstream("corp"))
        refused(walk.callback(_with(genuine, iss=None)), "did not come from")
        _accepted(walk, walk.at_upstream(walk.to_upstream("corp")))
        assert len(honest.token_requests) == 1


def test_an_unknown_upstream_id_ends_on_a_page_not_a_500(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    response = walk.browser.get("/upstream/nobody/callback?code=x&state=y")
    assert response.status_code == 404
    assert "Back to sign-in" in response.text
    start = walk.browser.get("/upstream/nobody/start")
    assert start.status_code == 404


def test_an_unreachable_upstream_ends_on_a_page_not_a_500(idp: ProviderHarness, walk: Walk) -> None:
    with FakeUpstream(LocalIssuer(), clock=idp.clock) as gone:
        entry = oidc_entry(gone)
    configure(idp, entry)
    walk.params = idp.authorize_params()
    response = walk.browser.get("/upstream/corp/start")
    assert response.status_code == 502
    assert "could not be reached" in response.text
