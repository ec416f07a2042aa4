"""UpstreamLinks on every backend: one upstream identity links to one user, kept tokens go with the
link, a federated sign-in's state works once, and sessions remember where they began."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest

from tessera.store import FederatedStore, Store, UpstreamLink, UpstreamLinks, UpstreamLogin, User

from .conftest import NOW, StoreOpener


@pytest.fixture
def links(store: Store) -> FederatedStore:
    """The store under test, which keeps upstream links on every backend."""
    assert isinstance(store, UpstreamLinks)
    return cast(FederatedStore, store)


def _link(user_id: str, subject: str = "sub-1", upstream_id: str = "corp", at: float = NOW) -> UpstreamLink:
    return UpstreamLink(upstream_id, subject, user_id, at, f"{user_id}@example.com")


def test_an_identity_links_to_one_user(links: FederatedStore) -> None:
    assert links.link_upstream(_link("usr_a"))
    assert not links.link_upstream(_link("usr_b"))
    assert not links.link_upstream(_link("usr_a", at=NOW + 5))
    assert links.find_upstream_link("corp", "sub-1") == _link("usr_a")
    assert links.upstream_links_of("usr_b") == ()
    assert links.find_upstream_link("corp", "sub-2") is None
    assert links.find_upstream_link("other", "sub-1") is None


def test_a_user_lists_their_identities_oldest_first(links: FederatedStore) -> None:
    assert links.link_upstream(_link("usr_a", "s2", "github", at=NOW + 10))
    assert links.link_upstream(_link("usr_a", "s1", "corp", at=NOW))
    assert links.link_upstream(_link("usr_a", "a#b", "corp", at=NOW + 20))  # a sub may hold '#'
    assert links.link_upstream(_link("usr_b", "s3", "corp", at=NOW + 5))
    assert [(x.upstream_id, x.subject) for x in links.upstream_links_of("usr_a")] == [
        ("corp", "s1"),
        ("github", "s2"),
        ("corp", "a#b"),
    ]
    assert links.find_upstream_link("corp", "a#b") == _link("usr_a", "a#b", "corp", at=NOW + 20)


def test_only_the_owner_unlinks_and_only_once(links: FederatedStore) -> None:
    assert links.link_upstream(_link("usr_a"))
    assert not links.unlink_upstream("corp", "sub-1", "usr_b")
    assert links.find_upstream_link("corp", "sub-1") is not None
    assert links.unlink_upstream("corp", "sub-1", "usr_a")
    assert not links.unlink_upstream("corp", "sub-1", "usr_a")
    assert links.find_upstream_link("corp", "sub-1") is None
    assert links.upstream_links_of("usr_a") == ()
    # Unlinked, the identity may link to someone else.
    assert links.link_upstream(_link("usr_b"))
    assert [x.user_id for x in links.upstream_links_of("usr_b")] == ["usr_b"]


def test_kept_tokens_belong_to_the_link_and_go_with_it(links: FederatedStore) -> None:
    assert not links.keep_upstream_tokens("corp", "sub-1", "usr_a", b"sealed-1")  # not linked
    assert links.link_upstream(_link("usr_a"))
    assert links.upstream_tokens("corp", "sub-1") is None  # nothing kept by default
    assert not links.keep_upstream_tokens("corp", "sub-1", "usr_b", b"sealed-x")  # not theirs
    assert links.upstream_tokens("corp", "sub-1") is None
    assert links.keep_upstream_tokens("corp", "sub-1", "usr_a", b"sealed-1")
    assert links.keep_upstream_tokens("corp", "sub-1", "usr_a", b"sealed-2\x00\xff")
    assert links.upstream_tokens("corp", "sub-1") == b"sealed-2\x00\xff"
    assert links.unlink_upstream("corp", "sub-1", "usr_a")
    assert links.upstream_tokens("corp", "sub-1") is None
    assert links.link_upstream(_link("usr_b"))
    assert links.upstream_tokens("corp", "sub-1") is None  # the next owner inherits nothing


def test_parallel_links_of_one_identity_have_one_winner(
    links: FederatedStore, open_same: StoreOpener
) -> None:
    other = cast(FederatedStore, open_same())
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: (links, other)[i % 2].link_upstream(_link(f"usr_{i}")), range(20)))
    assert results.count(True) == 1
    winner = f"usr_{results.index(True)}"
    found = links.find_upstream_link("corp", "sub-1")
    assert found is not None and found.user_id == winner
    assert [len(links.upstream_links_of(f"usr_{i}")) for i in range(20)] == [
        1 if f"usr_{i}" == winner else 0 for i in range(20)
    ]


def _login(state_hash: str = "st1", expires_at: float = NOW + 600) -> UpstreamLogin:
    return UpstreamLogin(state_hash, "corp", "bind", NOW, expires_at, linking_user_id="usr_a")


def test_a_sign_in_state_is_taken_once_by_parallel_callers(
    links: FederatedStore, open_same: StoreOpener
) -> None:
    links.save_upstream_login(_login())
    links.save_upstream_login(UpstreamLogin("st2", "github", "bind2", NOW, NOW + 600))
    other = cast(FederatedStore, open_same())
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: (links, other)[i % 2].take_upstream_login("st1", NOW), range(30)))
    assert [r for r in results if r is not None] == [_login()]
    assert links.take_upstream_login("st2", NOW) == UpstreamLogin("st2", "github", "bind2", NOW, NOW + 600)
    assert links.take_upstream_login("st2", NOW) is None
    assert links.take_upstream_login("unknown", NOW) is None


def test_an_expired_sign_in_state_is_refused_and_purged(links: FederatedStore, backend: str) -> None:
    links.save_upstream_login(_login("old", NOW))
    assert links.take_upstream_login("old", NOW) is None
    links.save_upstream_login(_login("old2", NOW))
    links.mark_session_upstream("sess-old", "corp", NOW)
    purged = links.purge_expired(NOW)
    assert purged >= 2 if backend != "dynamodb" else purged == 0  # DynamoDB: the table's TTL
    assert links.take_upstream_login("old2", NOW) is None
    assert links.session_upstream("sess-old", NOW) is None


def test_a_session_remembers_the_upstream_it_began_at(links: FederatedStore) -> None:
    assert links.session_upstream("sess", NOW) is None
    links.mark_session_upstream("sess", "corp", NOW + 100)
    assert links.session_upstream("sess", NOW) == "corp"
    assert links.session_upstream("sess", NOW + 100) is None
    links.mark_session_upstream("sess", "github", NOW + 200)
    assert links.session_upstream("sess", NOW + 150) == "github"


def test_deleting_a_user_removes_their_links_and_kept_tokens(links: FederatedStore) -> None:
    links.put_user(User("usr_a", "a@example.com", True))
    links.put_user(User("usr_b", "b@example.com", True))
    assert links.link_upstream(_link("usr_a", "s1"))
    assert links.link_upstream(_link("usr_a", "s2", "github"))
    assert links.keep_upstream_tokens("corp", "s1", "usr_a", b"sealed")
    assert links.link_upstream(_link("usr_b", "s3"))
    assert links.delete_user("usr_a")
    assert links.upstream_links_of("usr_a") == ()
    assert links.find_upstream_link("corp", "s1") is None and links.find_upstream_link("github", "s2") is None
    assert links.upstream_tokens("corp", "s1") is None
    assert [x.subject for x in links.upstream_links_of("usr_b")] == ["s3"]
    # The identity is free again: it can sign up or link anew instead of pointing at nobody.
    assert links.link_upstream(_link("usr_b", "s1"))
