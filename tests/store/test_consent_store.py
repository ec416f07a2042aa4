"""The consent table: approvals accumulate, and withdrawing one revokes that client's grants for that user."""

from __future__ import annotations

from tessera.store import AccessTokenRecord, Grant, Store

from .conftest import NOW


def _grant(store: Store, grant_id: str, user_id: str, client_id: str) -> None:
    store.create_grant(Grant(grant_id, client_id, user_id, "openid", int(NOW), NOW, NOW + 86400))
    store.save_access_token(AccessTokenRecord(f"jti-{grant_id}", client_id, grant_id, NOW + 900))


def test_consent_accumulates_scopes_in_order_without_repeats(store: Store) -> None:
    assert store.get_consent("usr_a", "partner") is None
    first = store.grant_consent("usr_a", "partner", ["openid", "profile", "openid"], NOW)
    assert first.scopes == ("openid", "profile")
    later = store.grant_consent("usr_a", "partner", ["email", "profile"], NOW + 10)
    assert later.scopes == ("openid", "profile", "email")
    assert later.granted_at == NOW
    assert later.updated_at == NOW + 10
    assert later.covers(["email", "openid"])
    assert not later.covers(["offline_access"])
    assert store.get_consent("usr_a", "partner") == later
    assert store.get_consent("usr_b", "partner") is None


def test_revoking_consent_revokes_only_that_users_grants_for_that_client(store: Store) -> None:
    _grant(store, "g-a-partner", "usr_a", "partner")
    _grant(store, "g-b-partner", "usr_b", "partner")
    _grant(store, "g-a-spa", "usr_a", "spa")
    store.grant_consent("usr_a", "partner", ["openid"], NOW)
    store.grant_consent("usr_b", "partner", ["openid"], NOW)
    store.revoke_consent("usr_a", "partner")
    assert store.get_consent("usr_a", "partner") is None
    assert store.get_consent("usr_b", "partner") is not None
    revoked = {g: store.get_grant(g) for g in ("g-a-partner", "g-b-partner", "g-a-spa")}
    assert {g: (r.revoked if r else None) for g, r in revoked.items()} == {
        "g-a-partner": True,
        "g-b-partner": False,
        "g-a-spa": False,
    }
    tokens = {j: store.get_access_token(f"jti-{j}") for j in ("g-a-partner", "g-b-partner")}
    assert {j: (t.revoked if t else None) for j, t in tokens.items()} == {
        "g-a-partner": True,
        "g-b-partner": False,
    }
