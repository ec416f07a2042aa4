"""A federated sign-in end to end on every store: a provider with ``[[upstreams]]`` starts on
SQLite, PostgreSQL and DynamoDB, signs a person in at an upstream, links, keeps the upstream's
tokens sealed when asked, and its tokens say ``amr`` fed and ``idp`` (before and after refresh)."""

from __future__ import annotations

from pathlib import Path

from tessera.issue.mail.delivery import DevOutbox
from tessera.issue.provider import Provider
from tessera.issue.settings import ProviderSettings
from tessera.issue.signin.federation import upstream_from_mapping
from tessera.issue.signin.federation.kept_tokens import open_kept_tokens
from tessera.keys.sealing import MasterKey
from tessera.store.url import open_store
from tessera.testing.idp import ISSUER, ProviderHarness
from tessera.testing.issuer import LocalIssuer
from tessera.testing.upstream import FakeUpstream
from tessera.verify import Verifier

from ..issue.signin.federation.harness import Walk, configure, oidc_entry, register


def test_a_provider_with_upstreams_starts_on_every_store(store_url: str) -> None:
    store = open_store(store_url)
    outbox = DevOutbox()
    upstream = upstream_from_mapping(
        {"id": "corp", "issuer": "https://login.example.com", "client_id": "t", "client_secret_env": "S"}
    )
    provider = Provider(
        ProviderSettings(issuer=ISSUER), store, MasterKey.generate(), outbox, upstreams=(upstream,)
    )
    try:
        assert list(provider.federation.upstreams) == ["corp"]
    finally:
        provider.outgoing.stop()
        store.close()


def test_a_federated_sign_in_on_every_store(
    store_url: str, tmp_path: Path, fresh_jwks_registry: None
) -> None:
    idp = ProviderHarness(tmp_path, store=open_store(store_url))
    try:
        with FakeUpstream(LocalIssuer(), clock=idp.clock) as corp:
            corp.issue_refresh_tokens = True
            register(corp, idp)
            configure(idp, oidc_entry(corp, keep_tokens=True))
            first = Walk(idp, idp.browser).sign_in()
            second = Walk(idp, idp.new_browser()).sign_in()
            refreshed = idp.refresh(second["refresh_token"])
            assert refreshed.status_code == 200, refreshed.text
            jwks = idp.browser.get("/jwks").json()
            verifier = Verifier(
                issuer=ISSUER, audience=ISSUER, token_type="at+jwt", jwks=jwks, clock=idp.clock
            )
            claims = [verifier.verify(t["access_token"]) for t in (first, second, refreshed.json())]
            assert {c.subject for c in claims} == {claims[0].subject}
            assert all(c["amr"] == ["fed"] and c["idp"] == "corp" for c in claims)
            link = idp.store.find_upstream_link("corp", "up-123")
            assert link is not None and link.user_id == claims[0].subject
            kept = open_kept_tokens(idp.store, idp.master, link.user_id, "corp", "up-123")
            assert kept is not None and kept["access_token"] in corp.issued_tokens
            assert kept["refresh_token"] in corp.issued_tokens
    finally:
        idp.close()
