"""Refresh tokens against AS-44..AS-52 (rotation, reuse, the concurrency policy, binding, expiry)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tessera.store import User
from tessera.testing.idp import ISSUER, ProviderHarness

WEB_SECRET = "web-secret-" + "x" * 40


def _invalid_grant(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


def test_as44_rotation_retires_the_old_refresh_and_access_token(idp: ProviderHarness) -> None:
    first = idp.tokens()
    second = idp.refresh(first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert idp.hello(body["access_token"]).status_code == 200
    assert idp.hello(first["access_token"]).status_code == 401


def test_as45_reuse_after_grace_revokes_the_family(idp: ProviderHarness) -> None:
    first = idp.tokens()
    second = idp.refresh(first["refresh_token"]).json()
    idp.clock.advance(11)
    _invalid_grant(idp.refresh(first["refresh_token"]))
    _invalid_grant(idp.refresh(second["refresh_token"]))
    assert idp.hello(second["access_token"]).status_code == 401


def test_as45_reuse_on_confidential_client_shows_inactive_in_introspection(idp: ProviderHarness) -> None:
    first = idp.tokens("web")
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = idp.token(data, auth=("web", WEB_SECRET)).json()
    assert idp.introspect(second["access_token"])["active"] is True
    assert idp.introspect(second["refresh_token"])["active"] is True
    idp.clock.advance(60)
    _invalid_grant(idp.token(data, auth=("web", WEB_SECRET)))
    assert idp.introspect(second["access_token"]) == {"active": False}
    assert idp.introspect(second["refresh_token"]) == {"active": False}


def test_as46_concurrent_refresh_one_rotation_no_second_family(idp: ProviderHarness) -> None:
    first = idp.tokens()
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: idp.refresh(first["refresh_token"]), range(10)))
    winners = [r.json() for r in responses if r.status_code == 200]
    assert len(winners) == 1
    for loser in (r for r in responses if r.status_code != 200):
        _invalid_grant(loser)
    successor = winners[0]["refresh_token"]
    assert idp.refresh(successor).status_code == 200


def test_as46_grace_window_edges(idp: ProviderHarness) -> None:
    first = idp.tokens()
    second = idp.refresh(first["refresh_token"]).json()
    idp.clock.advance(10)
    _invalid_grant(idp.refresh(first["refresh_token"]))
    third = idp.refresh(second["refresh_token"])
    assert third.status_code == 200, "a replay inside the grace window must not revoke the family"
    idp.clock.advance(10.5)
    _invalid_grant(idp.refresh(second["refresh_token"]))
    _invalid_grant(idp.refresh(third.json()["refresh_token"]))


def test_as46_the_grace_window_cost_when_the_thief_refreshes_first(idp: ProviderHarness) -> None:
    """What docs/idp.md says the accepted trade-off costs: the thief keeps the family until a late replay."""
    stolen = idp.tokens()["refresh_token"]
    thief = idp.refresh(stolen).json()
    idp.clock.advance(5)
    _invalid_grant(idp.refresh(stolen))  # the owner, inside the window: refused, family kept
    thief_next = idp.refresh(thief["refresh_token"])
    assert thief_next.status_code == 200
    idp.clock.advance(11)
    _invalid_grant(idp.refresh(stolen))  # the owner's app again, after the window: family revoked
    _invalid_grant(idp.refresh(thief_next.json()["refresh_token"]))
    assert idp.hello(thief_next.json()["access_token"]).status_code == 401


def test_as47_refresh_token_bound_to_its_client(idp: ProviderHarness) -> None:
    spa = idp.tokens()
    _invalid_grant(
        idp.token(
            {"grant_type": "refresh_token", "refresh_token": spa["refresh_token"]}, auth=("web", WEB_SECRET)
        )
    )
    assert idp.refresh(spa["refresh_token"]).status_code == 200


def test_as48_scope_cannot_grow_but_may_narrow(idp: ProviderHarness) -> None:
    first = idp.tokens(scope="openid profile offline_access")
    grown = idp.refresh(first["refresh_token"], scope="openid profile offline_access admin")
    assert grown.status_code == 400
    assert grown.json()["error"] == "invalid_scope"
    narrowed = idp.refresh(first["refresh_token"], scope="openid")
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "openid"
    again = idp.refresh(narrowed.json()["refresh_token"])
    assert again.json()["scope"] == "openid profile offline_access"


def test_as49_refresh_fails_once_the_user_is_disabled_or_signed_out(idp: ProviderHarness) -> None:
    first = idp.tokens(email="bob@example.com")
    idp.store.put_user(User("usr_bob", "bob@example.com", True, "Bob", (), disabled=True))
    _invalid_grant(idp.refresh(first["refresh_token"]))
    idp.store.put_user(User("usr_bob", "bob@example.com", True, "Bob", ()))
    alice = idp.tokens()
    assert idp.refresh(alice["refresh_token"]).status_code == 200


def test_as50_idle_and_absolute_lifetimes(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, refresh_idle_seconds=3600, refresh_absolute_seconds=3 * 3600)
    first = idp.tokens()
    idp.clock.advance(3601)
    _invalid_grant(idp.refresh(first["refresh_token"]))
    token = idp.tokens()["refresh_token"]
    rotations = 0
    for _ in range(5):
        idp.clock.advance(3000)
        response = idp.refresh(token)
        if response.status_code != 200:
            break
        rotations += 1
        token = response.json()["refresh_token"]
    _invalid_grant(response)
    assert rotations == 3, "each use was within the idle limit; only the absolute cap (3 h) can stop it"
    idp.store.close()


def test_as51_public_client_refresh_always_rotates(idp: ProviderHarness) -> None:
    token = idp.tokens()["refresh_token"]
    seen = {token}
    for _ in range(5):
        token = idp.refresh(token).json()["refresh_token"]
        assert token not in seen
        seen.add(token)


def test_as52_other_token_kinds_are_not_refresh_tokens(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    code, _, _ = idp.code()
    for wrong in (tokens["access_token"], tokens["id_token"], code):
        _invalid_grant(idp.refresh(wrong))
    assert idp.refresh(tokens["refresh_token"]).status_code == 200


def test_sto03_family_revocation_is_complete_after_ten_rotations(idp: ProviderHarness) -> None:
    first = idp.tokens()
    tokens = [first]
    for _ in range(10):
        tokens.append(idp.refresh(tokens[-1]["refresh_token"]).json())
    idp.clock.advance(60)
    _invalid_grant(idp.refresh(first["refresh_token"]))
    _invalid_grant(idp.refresh(tokens[-1]["refresh_token"]))
    assert all(idp.hello(t["access_token"]).status_code == 401 for t in tokens)


def test_sto04_reuse_marker_outlives_idle_expiry(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, refresh_idle_seconds=3600)
    first = idp.tokens()
    second = idp.refresh(first["refresh_token"]).json()
    idp.clock.advance(1800)
    idp.store.purge_expired(idp.clock.now + 7200)
    idp.clock.advance(100)
    _invalid_grant(idp.refresh(first["refresh_token"]))
    _invalid_grant(idp.refresh(second["refresh_token"]))
    idp.store.close()


def test_id_token_on_refresh_keeps_subject_and_issuer(idp: ProviderHarness) -> None:
    from tessera.verify import Verifier

    first = idp.tokens()
    again = idp.refresh(first["refresh_token"]).json()
    jwks = idp.browser.get("/jwks").json()
    verifier = Verifier(issuer=ISSUER, audience="spa", token_type="JWT", jwks=jwks, clock=idp.clock)
    assert verifier.verify(again["id_token"]).subject == verifier.verify(first["id_token"]).subject
