"""What every store does the same way, on every backend: records round-trip, revocation reaches tokens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tessera.store import (
    AccessTokenRecord,
    ClientRecord,
    Grant,
    OneTimeCode,
    PendingRequest,
    RefreshState,
    Session,
    SigningKeyRecord,
    Store,
    User,
)

from .conftest import NOW, StoreOpener
from .test_single_use import code, race, refresh


def grant(grant_id: str = "g1", session_hash: str | None = None, user_id: str = "usr_a") -> Grant:
    """A live grant of ``spa``."""
    return Grant(grant_id, "spa", user_id, "openid", int(NOW), NOW, NOW + 86400, session_hash)


def test_clients_and_users_round_trip(store: Store) -> None:
    client = ClientRecord(
        client_id="svc",
        name="Service",
        auth_methods=("client_secret_basic",),
        secret_hash="ab" * 32,
        jwks={"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}]},
        first_party=False,
    )
    store.put_client(client)
    assert store.get_client("svc") == client
    assert store.get_client("nobody") is None
    renamed = ClientRecord(client_id="svc", name="Renamed")
    store.put_client(renamed)
    assert store.get_client("svc") == renamed
    alice = User("usr_a", "Alice@Example.com", True, "Alice", ("admin",))
    store.put_user(alice)
    found = store.find_user_by_email("ALICE@example.COM")
    assert found is not None and found.user_id == "usr_a" and found.roles == ("admin",)
    assert store.get_user("usr_a") == found
    assert store.get_user("usr_b") is None and store.find_user_by_email("bob@example.com") is None


def test_directory_lists_and_deletes_clients_and_users(store: Store) -> None:
    for client_id in ("zeta", "alpha"):
        store.put_client(ClientRecord(client_id=client_id, name=client_id.title()))
    store.put_user(User("usr_b", "bob@example.com", True, "Bob", ()))
    store.put_user(User("usr_a", "Ann@Example.com", True, "Ann", ("admin",)))
    assert [c.client_id for c in store.list_clients()] == ["alpha", "zeta"]
    assert [(u.user_id, u.roles) for u in store.list_users()] == [("usr_a", ("admin",)), ("usr_b", ())]

    assert store.delete_client("zeta") is True
    assert store.delete_client("zeta") is False
    assert store.get_client("zeta") is None and store.get_client("alpha") is not None
    assert store.delete_user("usr_a") is True
    assert store.delete_user("usr_a") is False
    assert store.get_user("usr_a") is None
    assert store.find_user_by_email("ann@example.com") is None
    assert [u.user_id for u in store.list_users()] == ["usr_b"]
    store.put_user(User("usr_c", "ann@example.com", True, "Ann again", ()))
    found = store.find_user_by_email("ANN@example.com")
    assert found is not None and found.user_id == "usr_c"


def test_a_limited_listing_of_users_reads_no_more_than_asked(store: Store) -> None:
    for letter in "edcba":
        store.put_user(User(f"usr_{letter}", f"{letter}@example.com"))
    some = store.list_users(limit=2)
    assert len(some) == 2 and [u.email for u in some] == sorted(u.email for u in some)
    assert {u.user_id for u in some} <= {f"usr_{letter}" for letter in "abcde"}
    assert [u.email for u in store.list_users(limit=10)] == [f"{c}@example.com" for c in "abcde"]
    assert len(store.list_users()) == 5


def test_an_email_belongs_to_one_user(store: Store) -> None:
    store.put_user(User("usr_a", "a@example.com"))
    store.put_user(User("usr_a", "a2@example.com"))
    assert store.find_user_by_email("a@example.com") is None
    moved = store.find_user_by_email("a2@example.com")
    assert moved is not None and moved.user_id == "usr_a"
    store.put_user(User("usr_b", "a2@example.com"))
    holder = store.find_user_by_email("a2@example.com")
    assert holder is not None and holder.user_id == "usr_b"
    assert store.get_user("usr_a") is None


def test_codes_sessions_and_pending_requests_round_trip(store: Store) -> None:
    store.save_code(code())
    assert store.get_code("c1", NOW) == code()
    store.create_session(Session("s1", "usr_a", int(NOW), NOW + 600))
    assert store.get_session("s1", NOW) == Session("s1", "usr_a", int(NOW), NOW + 600)
    request = PendingRequest("p1", {"client_id": "spa", "scope": "openid"}, NOW, NOW + 600, True)
    store.save_pending(request)
    assert store.get_pending("p1", NOW) == request
    assert store.get_pending("p1", NOW + 600) is None
    store.delete_pending("p1")
    assert store.get_pending("p1", NOW) is None


def test_sessions_keep_the_methods_their_sign_in_used(store: Store) -> None:
    two_factors = Session("s-mfa", "usr_a", int(NOW), NOW + 600, amr=("otp", "sms", "mfa"))
    store.create_session(two_factors)
    store.create_session(Session("s-none", "usr_a", int(NOW), NOW + 600))
    assert store.get_session("s-mfa", NOW) == two_factors
    found = store.get_session("s-none", NOW)
    assert found is not None and found.amr == ()


def test_one_time_codes_count_attempts_and_are_used_once(store: Store) -> None:
    store.save_one_time_code(OneTimeCode("o1", "A@example.com", "mac-1", NOW, NOW + 600))
    for attempts in (1, 2, 3):
        counted = store.attempt_one_time_code("o1", 5, NOW + 1)
        assert counted == OneTimeCode("o1", "a@example.com", "mac-1", NOW, NOW + 600, attempts)
    assert store.consume_one_time_code("o1", NOW + 1)
    assert store.attempt_one_time_code("o1", 5, NOW + 2) is None
    assert store.attempt_one_time_code("unknown", 5, NOW) is None
    assert not store.consume_one_time_code("unknown", NOW)


def test_grants_keep_how_the_user_signed_in(store: Store) -> None:
    federated = replace(grant("g-fed"), amr=("fed", "otp", "mfa"), idp="corp")
    store.create_grant(federated)
    store.create_grant(grant("g-plain"))
    assert store.get_grant("g-fed") == federated
    plain = store.get_grant("g-plain")
    assert plain is not None and plain.amr == () and plain.idp is None
    assert federated in store.list_grants("usr_a", NOW)


def test_revocation_marker_wins_over_a_later_grant(store: Store) -> None:
    store.revoke_grant("g9")
    assert store.get_grant("g9") is None
    store.create_grant(grant("g9"))
    revoked = store.get_grant("g9")
    assert revoked is not None and revoked.revoked
    store.create_grant(grant("g10"))
    assert store.get_grant("g10") == grant("g10")


def test_revoking_an_unrecorded_access_token_records_it_revoked(store: Store) -> None:
    store.revoke_access_token(AccessTokenRecord("cc-1", "svc", None, NOW + 900))
    assert store.get_access_token("cc-1") == AccessTokenRecord("cc-1", "svc", None, NOW + 900, True)
    store.save_access_token(AccessTokenRecord("grant-1", "web", "g1", NOW + 900))
    assert store.get_access_token("grant-1") == AccessTokenRecord("grant-1", "web", "g1", NOW + 900)
    store.revoke_access_token(AccessTokenRecord("grant-1", "web", None, NOW + 900))
    assert store.get_access_token("grant-1") == AccessTokenRecord("grant-1", "web", "g1", NOW + 900, True)


def test_rotation_revokes_the_grants_earlier_access_tokens_only(store: Store) -> None:
    def revoked(jti: str) -> bool:
        record = store.get_access_token(jti)
        assert record is not None
        return record.revoked

    store.create_grant(grant())
    store.save_refresh(refresh("r1"))
    store.save_access_token(AccessTokenRecord("at-1", "spa", "g1", NOW + 900))
    store.save_access_token(AccessTokenRecord("other-grant", "spa", "g2", NOW + 900))
    assert not store.rotate_refresh("unknown", refresh("x"), NOW).rotated
    assert not revoked("at-1")
    assert store.rotate_refresh("r1", refresh("r2"), NOW).rotated
    assert revoked("at-1")
    assert not revoked("other-grant")
    store.save_access_token(AccessTokenRecord("at-2", "spa", "g1", NOW + 900))
    assert not revoked("at-2")
    store.revoke_grant("g1")
    assert revoked("at-2")
    assert not revoked("other-grant")


def test_a_rotation_records_its_successors_access_token_and_a_lost_one_records_nothing(
    store: Store,
) -> None:
    store.create_grant(grant())
    store.save_refresh(refresh("r1"))
    store.save_access_token(AccessTokenRecord("at-1", "spa", "g1", NOW + 900))
    companion = AccessTokenRecord("at-2", "spa", "g1", NOW + 900)
    won = store.rotate_refresh("r1", refresh("r2"), NOW, companion)
    assert won.rotated and won.previous is not None and won.previous.state is RefreshState.ROTATED
    assert store.get_access_token("at-2") == companion
    earlier = store.get_access_token("at-1")
    assert earlier is not None and earlier.revoked
    lost = store.rotate_refresh("r1", refresh("r3"), NOW, AccessTokenRecord("at-3", "spa", "g1", NOW + 900))
    assert not lost.rotated and lost.previous is not None and lost.previous.state is RefreshState.ROTATED
    assert store.get_access_token("at-3") is None and store.get_refresh("r3") is None
    assert store.get_access_token("at-2") == companion


def test_ending_a_session_revokes_its_grants_and_their_tokens(store: Store) -> None:
    store.create_session(Session("s1", "usr_a", int(NOW), NOW + 600))
    store.create_grant(grant("g1", session_hash="s1"))
    store.create_grant(grant("g2", session_hash="s2"))
    store.save_access_token(AccessTokenRecord("at-1", "spa", "g1", NOW + 900))
    store.save_access_token(AccessTokenRecord("at-2", "spa", "g2", NOW + 900))
    store.end_session("s1")
    assert store.get_session("s1", NOW) is None
    ended, other = store.get_grant("g1"), store.get_grant("g2")
    assert ended is not None and ended.revoked
    assert other is not None and not other.revoked
    token_1, token_2 = store.get_access_token("at-1"), store.get_access_token("at-2")
    assert token_1 is not None and token_1.revoked
    assert token_2 is not None and not token_2.revoked


def test_signing_keys_swap_only_from_the_expected_current_key(store: Store, open_same: StoreOpener) -> None:
    first = SigningKeyRecord(
        "kid-1", "ES256", "current", {"kty": "EC", "crv": "P-256"}, b"\x00sealed\xff", NOW
    )
    results = race(open_same, lambda client, _: client.replace_signing_keys(None, [first]), racers=10)
    assert results.count(True) == 1
    assert [dict(k.public_jwk) for k in store.list_signing_keys()] == [{"kty": "EC", "crv": "P-256"}]
    assert store.list_signing_keys()[0].sealed_private == b"\x00sealed\xff"
    second = SigningKeyRecord("kid-2", "ES256", "current", {"kty": "EC"}, b"s2", NOW + 1)
    retired = SigningKeyRecord("kid-1", "ES256", "previous", {"kty": "EC"}, b"s1", NOW)
    assert not store.replace_signing_keys(None, [second, retired])
    assert not store.replace_signing_keys("kid-0", [second, retired])
    assert store.replace_signing_keys("kid-1", [second, retired])
    assert [(k.kid, k.status) for k in store.list_signing_keys()] == [
        ("kid-1", "previous"),
        ("kid-2", "current"),
    ]


def test_concurrent_consents_lose_no_scope(store: Store, open_same: StoreOpener) -> None:
    scopes = [f"s{i}" for i in range(20)]
    race(
        open_same, lambda client, i: client.grant_consent("usr_a", "partner", [scopes[i]], NOW + i), racers=20
    )
    consent = store.get_consent("usr_a", "partner")
    assert consent is not None and sorted(consent.scopes) == sorted(scopes)


def test_expired_rows_are_gone_from_reads_and_purged_where_the_store_purges(
    store: Store, backend: str
) -> None:
    store.save_code(code("old", NOW - 7200))
    store.save_code(code("new", NOW + 60))
    store.create_session(Session("s-old", "usr_a", int(NOW), NOW - 1))
    store.create_session(Session("s-new", "usr_a", int(NOW), NOW + 100))
    removed = store.purge_expired(NOW)
    if backend == "dynamodb":
        assert removed == 0  # the table's TTL deletes; reads already ignore what expired
    else:
        assert removed >= 2
    assert store.get_code("old", NOW) is None and store.get_session("s-old", NOW) is None
    assert store.get_code("new", NOW) is not None
    assert store.get_session("s-new", NOW) is not None


@pytest.mark.parametrize("racers", [20])
def test_concurrent_grants_and_revocations_leave_every_grant_revoked(store: Store, racers: int) -> None:
    def both(i: int) -> None:
        if i % 2:
            store.revoke_grant(f"g{i // 2}")
        else:
            store.create_grant(grant(f"g{i // 2}"))

    with ThreadPoolExecutor(max_workers=racers) as pool:
        list(pool.map(both, range(racers)))
    for i in range(racers // 2):
        found = store.get_grant(f"g{i}")
        assert found is not None and found.revoked
