"""``keep_tokens = true``: the upstream's tokens are stored sealed (user id bound in), never passed to
applications, and deleted on unlink; absent by default."""

from __future__ import annotations

import re

from tessera.issue.signin.federation.kept_tokens import open_kept_tokens
from tessera.testing.idp import ProviderHarness
from tessera.testing.upstream import FakeUpstream

from .harness import Walk, configure, oidc_entry


def test_kept_tokens_are_sealed_bound_to_the_user_and_never_sent_on(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    corp.issue_refresh_tokens = True
    configure(idp, oidc_entry(corp, keep_tokens=True))
    tokens = walk.sign_in()
    link = idp.store.find_upstream_link("corp", "up-123")
    assert link is not None
    sealed = idp.store.upstream_tokens("corp", "up-123")
    assert sealed is not None
    issued = corp.issued_tokens
    assert len(issued) == 2
    # The stored value is not the tokens ...
    assert not any(token.encode() in sealed for token in issued)
    # ... but opens, for that user only, to exactly them.
    kept = open_kept_tokens(idp.store, idp.master, link.user_id, "corp", "up-123")
    assert kept is not None
    assert {kept["access_token"], kept["refresh_token"]} == issued
    assert kept["token_type"] == "Bearer" and kept["expires_at"] == int(idp.clock()) + 600
    assert open_kept_tokens(idp.store, idp.master, "usr_someone_else", "corp", "up-123") is None
    # The application gets Tessera's tokens only.
    assert not any(token in str(tokens) for token in issued)


def test_a_later_sign_in_replaces_the_kept_tokens(
    idp: ProviderHarness, corp: FakeUpstream, walk: Walk
) -> None:
    configure(idp, oidc_entry(corp, keep_tokens=True))
    walk.sign_in()
    link = idp.store.find_upstream_link("corp", "up-123")
    assert link is not None
    first = open_kept_tokens(idp.store, idp.master, link.user_id, "corp", "up-123")
    Walk(idp, idp.new_browser()).sign_in()
    second = open_kept_tokens(idp.store, idp.master, link.user_id, "corp", "up-123")
    assert first is not None and second is not None
    assert first["access_token"] != second["access_token"] and second["access_token"] in corp.issued_tokens


def test_no_tokens_are_kept_by_default(idp: ProviderHarness, corp: FakeUpstream, walk: Walk) -> None:
    corp.issue_refresh_tokens = True
    walk.sign_in()
    assert idp.store.find_upstream_link("corp", "up-123") is not None
    assert idp.store.upstream_tokens("corp", "up-123") is None


def test_unlinking_deletes_the_kept_tokens(idp: ProviderHarness, corp: FakeUpstream) -> None:
    configure(idp, oidc_entry(corp, keep_tokens=True))
    corp.person = {"sub": "up-alice", "email": "alice@corp.example", "email_verified": False}
    idp.sign_in(idp.authorize_params())
    page = idp.browser.get("/account")
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page.text.partition('id="linked-sign-ins"')[2])[0]
    started = idp.browser.post("/upstream/corp/link", data={"csrf": csrf})
    walk = Walk(idp, idp.browser)
    assert walk.callback(walk.at_upstream(started.headers["location"])).status_code == 303
    assert open_kept_tokens(idp.store, idp.master, "usr_alice", "corp", "up-alice") is not None
    unlinked = idp.browser.post("/upstream/corp/unlink", data={"csrf": csrf, "subject": "up-alice"})
    assert unlinked.status_code == 303
    assert idp.store.upstream_tokens("corp", "up-alice") is None
