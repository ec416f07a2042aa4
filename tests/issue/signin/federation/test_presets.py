"""Each preset against a local stand-in with the provider's real issuer string and claim shapes."""

from __future__ import annotations

import base64
import json
from typing import Any

from tessera.keys import SigningKey
from tessera.testing.idp import ProviderHarness
from tessera.testing.issuer import LocalIssuer
from tessera.testing.providers import EXAMPLE
from tessera.testing.upstream import FakeGitHub, FakeUpstream, form_fields
from tessera.verify import ANY, KeySet, Verifier
from tessera.verify.presets.cognito import cognito_issuer

from .harness import Walk, configure, refused, register


def _offline(idp: ProviderHarness, issuer_url: str) -> FakeUpstream:
    """A fake upstream signing as ``issuer_url``; its endpoints are set on the upstream, not discovered."""
    return FakeUpstream(LocalIssuer(url=issuer_url), clock=idp.clock).start()


def _entry(fake: FakeUpstream, preset: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "corp",
        "name": preset.title(),
        "preset": preset,
        "issuer": fake.issuer.issuer,
        "client_id": "tessera",
        "client_secret_env": "CORP_SECRET",
        **fake.endpoints,
        **extra,
    }


def _claims_of(idp: ProviderHarness, tokens: dict[str, Any]) -> dict[str, Any]:
    jwks = idp.browser.get("/jwks").json()
    verifier = Verifier(
        issuer=idp.issuer, audience=idp.issuer, token_type="at+jwt", jwks=jwks, clock=idp.clock
    )
    return dict(verifier.verify(tokens["access_token"]))


def test_google(idp: ProviderHarness) -> None:
    fake = _offline(idp, "https://accounts.google.com")
    try:
        register(fake, idp)
        fake.person = {"sub": "1098", "email": "g@example.com", "email_verified": True, "azp": "tessera"}
        configure(idp, _entry(fake, "google"))
        walk = Walk(idp, idp.browser)
        claims = _claims_of(idp, walk.sign_in())
        assert claims["idp"] == "corp"
        # Google gets the client secret in the body (client_secret_post).
        assert fake.token_requests[-1]["client_secret"]
    finally:
        fake.stop()


def test_entra_common_accepts_only_allowed_tenants(idp: ProviderHarness) -> None:
    allowed = EXAMPLE.entra_tenant_id
    fake = _offline(idp, f"https://login.microsoftonline.com/{allowed}/v2.0")
    try:
        register(fake, idp)
        entry = _entry(
            fake, "entra", issuer="https://login.microsoftonline.com/common/v2.0", tenants=[allowed]
        )
        configure(idp, entry)
        fake.person = {"sub": "e-1", "tid": allowed, "email": "e@example.com", "name": "E"}
        other = "99999999-0000-0000-0000-000000000000"
        fake.id_token_overrides = {"iss": f"https://login.microsoftonline.com/{other}/v2.0", "tid": other}
        walk = Walk(idp, idp.browser)
        refused(walk.callback(walk.at_upstream(walk.to_upstream())), "could not be verified")
        fake.id_token_overrides = {}
        assert _claims_of(idp, walk.sign_in())["idp"] == "corp"
    finally:
        fake.stop()


def test_entra_email_verified_is_not_trusted_for_linking(idp: ProviderHarness) -> None:
    tenant = EXAMPLE.entra_tenant_id
    fake = _offline(idp, f"https://login.microsoftonline.com/{tenant}/v2.0")
    try:
        register(fake, idp)
        configure(idp, _entry(fake, "entra", tenants=[tenant]))
        fake.person = {"sub": "e-2", "email": "alice@example.com", "email_verified": True}
        walk = Walk(idp, idp.browser)
        refused(walk.callback(walk.at_upstream(walk.to_upstream())), "Sign in to it first")
    finally:
        fake.stop()


def test_auth0_cognito_okta(idp: ProviderHarness) -> None:
    issuers = {
        "auth0": f"https://{EXAMPLE.auth0_domain}/",
        "cognito": cognito_issuer(EXAMPLE.cognito_region, EXAMPLE.cognito_user_pool_id),
        "okta": "https://tessera-test.okta.com/oauth2/default",
    }
    for preset, url in issuers.items():
        fake = _offline(idp, url.rstrip("/"))
        try:
            register(fake, idp)
            configure(idp, _entry(fake, preset))
            # Cognito writes email_verified as a string in some pools.
            verified: Any = "true" if preset == "cognito" else True
            fake.person = {"sub": f"{preset}-1", "email": f"{preset}@example.com", "email_verified": verified}
            walk = Walk(idp, idp.new_browser())
            _claims_of(idp, walk.sign_in())
            user = idp.store.find_user_by_email(f"{preset}@example.com")
            assert user is not None and user.email_verified, preset
            # client_secret_basic for these.
            assert "client_secret" not in fake.token_requests[-1]
            assert len(idp.store.upstream_links_of(user.user_id)) == 1
        finally:
            fake.stop()


def test_apple_form_post_and_es256_client_secret(idp: ProviderHarness) -> None:
    fake = _offline(idp, "https://appleid.apple.com")
    apple_key = SigningKey.generate("ES256", kid="KEY123")
    seen: list[dict[str, Any]] = []

    def client_secret_ok(secret: str) -> bool:
        keys = KeySet.from_jwks({"keys": [apple_key.public_jwk()]})
        claims = Verifier(
            issuer="TEAM123",
            audience="https://appleid.apple.com",
            token_type=ANY,
            keys=keys,
            clock=idp.clock,
            required_claims=("iss", "sub", "aud", "exp", "iat"),
            roles_claim=None,
        ).verify(secret)
        seen.append(dict(claims))
        return bool(claims["sub"] == "tessera")

    try:
        register(fake, idp, secret=client_secret_ok)
        entry = _entry(
            fake, "apple", apple_team_id="TEAM123", apple_key_id="KEY123", apple_private_key_env="APPLE_KEY"
        )
        del entry["client_secret_env"]
        configure(idp, entry, environ={"APPLE_KEY": apple_key.private_pem().decode()})
        fake.person = {"sub": "001.apple", "email": "a@privaterelay.appleid.com", "email_verified": "true"}
        walk = Walk(idp, idp.browser)
        location = walk.to_upstream()
        assert "response_mode=form_post" in location
        import httpx2 as httpx

        page = httpx.get(location).text
        fields = form_fields(page)
        response = walk.browser.post("/upstream/corp/callback", data=dict(fields))
        tokens = walk.finish(response)
        assert _claims_of(idp, tokens)["idp"] == "corp"
        assert seen and seen[0]["iss"] == "TEAM123"
        header = json.loads(
            base64.urlsafe_b64decode(fake.token_requests[-1]["client_secret"].split(".")[0] + "==")
        )
        assert header["alg"] == "ES256" and header["kid"] == "KEY123"
    finally:
        fake.stop()


def test_github_uses_the_primary_verified_email_only(idp: ProviderHarness) -> None:
    with FakeGitHub() as github:
        github.register("tessera", "gh-secret", f"{idp.issuer}/upstream/gh/callback")
        entry = {
            "id": "gh",
            "name": "GitHub",
            "preset": "github",
            "client_id": "tessera",
            "client_secret_env": "GH_SECRET",
            **github.settings,
        }
        configure(idp, entry, environ={"GH_SECRET": "gh-secret"})
        walk = Walk(idp, idp.browser)
        claims = _claims_of(idp, walk.sign_in("gh"))
        assert claims["idp"] == "gh"
        assert idp.store.find_user_by_email("octo@example.com") is not None
        assert idp.store.find_user_by_email("other@example.com") is None
        # A primary email that is not verified is no email at all: no account is made from it.
        github.user = {"id": 5151, "login": "newcat"}
        github.emails = [
            {"email": "new@example.com", "primary": True, "verified": False},
            {"email": "alt@example.com", "primary": False, "verified": True},
        ]
        second = Walk(idp, idp.new_browser())
        refused(second.callback(second.at_upstream(second.to_upstream("gh"))), "no verified email")
        assert idp.store.find_user_by_email("new@example.com") is None
        assert idp.store.find_user_by_email("alt@example.com") is None
