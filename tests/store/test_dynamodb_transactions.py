"""DynamoDB: a change of several items is all or nothing, whichever of its writes fails.

Each test runs one change on moto over HTTP with the store's k-th write call failing, for every
k the change makes, as a dropped connection fails it (botocore's ``EndpointConnectionError``,
nothing sent). After the failure the table must hold the change entirely or not at all, and
repeating the call must complete it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from tessera.store import AccessTokenRecord, Grant, RefreshToken, Session, User
from tessera.store.dynamodb import DynamoDBStore
from tessera.store.url import open_store

from .conftest import NOW, fresh_store_url

_WRITES = frozenset({"put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"})


class FailingWrite:
    """A boto3 DynamoDB client whose ``fail_at``-th write call fails before anything is sent."""

    def __init__(self, client: Any, fail_at: int) -> None:
        self._client = client
        self._fail_at = fail_at
        self.writes = 0
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in _WRITES:
            return attr

        def write(**kwargs: Any) -> Any:
            self.writes += 1
            if self.writes == self._fail_at:
                self.failed = True
                raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")
            return attr(**kwargs)

        return write


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DynamoDBStore]:
    opened = open_store(fresh_store_url("dynamodb", request, tmp_path))
    assert isinstance(opened, DynamoDBStore)
    yield opened
    opened.close()


@dataclass(frozen=True)
class Change:
    """A multi-item change: ``prepare`` the items under an id prefix, ``apply`` it, read its ``state``."""

    prepare: Callable[[DynamoDBStore, str], None]
    apply: Callable[[DynamoDBStore, str], object]
    state: Callable[[DynamoDBStore, str], tuple[object, ...]]


def _revoked(store: DynamoDBStore, *jtis: str) -> tuple[bool, ...]:
    records = [store.get_access_token(jti) for jti in jtis]
    return tuple(r is not None and r.revoked for r in records)


def _grants_revoked(store: DynamoDBStore, *grant_ids: str) -> tuple[bool, ...]:
    grants = [store.get_grant(g) for g in grant_ids]
    return tuple(g is not None and g.revoked for g in grants)


def _grant(p: str, name: str, session: str | None = None) -> Grant:
    return Grant(f"{p}{name}", "spa", f"{p}usr", "openid", int(NOW), NOW, NOW + 86400, session)


def _prepare_session(store: DynamoDBStore, p: str) -> None:
    store.create_session(Session(f"{p}s", f"{p}usr", int(NOW), NOW + 600))
    for name in ("g1", "g2"):
        store.create_grant(_grant(p, name, f"{p}s"))
        store.save_access_token(AccessTokenRecord(f"{p}{name}-at", "spa", f"{p}{name}", NOW + 900))
    store.create_grant(_grant(p, "other"))


def _session_state(store: DynamoDBStore, p: str) -> tuple[object, ...]:
    return (
        store.get_session(f"{p}s", NOW) is not None,
        _grants_revoked(store, f"{p}g1", f"{p}g2", f"{p}other"),
        _revoked(store, f"{p}g1-at", f"{p}g2-at"),
    )


def _prepare_consent(store: DynamoDBStore, p: str) -> None:
    store.grant_consent(f"{p}usr", "spa", ["openid"], NOW)
    for name in ("g1", "g2"):
        store.create_grant(_grant(p, name))
        store.save_access_token(AccessTokenRecord(f"{p}{name}-at", "spa", f"{p}{name}", NOW + 900))


def _consent_state(store: DynamoDBStore, p: str) -> tuple[object, ...]:
    return (
        store.get_consent(f"{p}usr", "spa") is not None,
        _grants_revoked(store, f"{p}g1", f"{p}g2"),
        _revoked(store, f"{p}g1-at", f"{p}g2-at"),
    )


def _prepare_grant(store: DynamoDBStore, p: str) -> None:
    store.create_grant(_grant(p, "g1"))
    for n in (1, 2):
        store.save_access_token(AccessTokenRecord(f"{p}at{n}", "spa", f"{p}g1", NOW + 900))


def _grant_state(store: DynamoDBStore, p: str) -> tuple[object, ...]:
    return _grants_revoked(store, f"{p}g1"), _revoked(store, f"{p}at1", f"{p}at2")


def _prepare_rotation(store: DynamoDBStore, p: str) -> None:
    store.create_grant(_grant(p, "g1"))
    store.save_refresh(RefreshToken(f"{p}r1", f"{p}g1", "spa", NOW, NOW + 3600))
    store.save_access_token(AccessTokenRecord(f"{p}at1", "spa", f"{p}g1", NOW + 900))


def _rotate(store: DynamoDBStore, p: str) -> object:
    return store.rotate_refresh(f"{p}r1", RefreshToken(f"{p}r2", f"{p}g1", "spa", NOW, NOW + 3600), NOW + 1)


def _rotation_state(store: DynamoDBStore, p: str) -> tuple[object, ...]:
    old, new = store.get_refresh(f"{p}r1"), store.get_refresh(f"{p}r2")
    return (old.state.value if old else None, new is not None, _revoked(store, f"{p}at1"))


def _phone(p: str, which: int) -> str:
    """The ``which``-th number of the users under prefix ``p`` (``ref-`` or ``k<n>-``)."""
    run = 999 if p == "ref-" else int(p.strip("k-"))
    return f"+4474{run:03}0000{which}"


def _user(p: str, email: str, which: int) -> User:
    return User(f"{p}usr", f"{email}@{p}example.com", phone=_phone(p, which))


def _user_state(store: DynamoDBStore, p: str) -> tuple[object, ...]:
    def who(found: User | None) -> str | None:
        return found.email.split("@")[0] if found is not None else None

    return (
        who(store.get_user(f"{p}usr")),
        tuple(who(store.find_user_by_email(f"{e}@{p}example.com")) for e in ("carol", "caroline")),
        tuple(who(store.find_user_by_phone(_phone(p, which))) for which in (1, 2)),
    )


CHANGES = {
    "end_session": Change(_prepare_session, lambda s, p: s.end_session(f"{p}s"), _session_state),
    "revoke_consent": Change(
        _prepare_consent, lambda s, p: s.revoke_consent(f"{p}usr", "spa"), _consent_state
    ),
    "revoke_grant": Change(_prepare_grant, lambda s, p: s.revoke_grant(f"{p}g1"), _grant_state),
    "rotate_refresh": Change(_prepare_rotation, _rotate, _rotation_state),
    "put_user": Change(
        lambda s, p: s.put_user(_user(p, "carol", 1)),
        lambda s, p: s.put_user(_user(p, "caroline", 2)),
        _user_state,
    ),
    "delete_user": Change(
        lambda s, p: s.put_user(_user(p, "carol", 1)),
        lambda s, p: s.delete_user(f"{p}usr"),
        _user_state,
    ),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_failed_write_leaves_all_of_the_change_or_none(store: DynamoDBStore, name: str) -> None:
    change = CHANGES[name]
    change.prepare(store, "ref-")
    before = change.state(store, "ref-")
    change.apply(store, "ref-")
    after = change.state(store, "ref-")
    assert after != before
    client = store._db
    failures = 0
    for k in range(1, 20):
        prefix = f"k{k}-"
        change.prepare(store, prefix)
        assert change.state(store, prefix) == before
        failing = FailingWrite(client, k)
        store._made = failing
        try:
            change.apply(store, prefix)
        except EndpointConnectionError:
            pass
        finally:
            store._made = client
        assert change.state(store, prefix) in (before, after), f"half a change when write {k} failed"
        change.apply(store, prefix)
        assert change.state(store, prefix) == after
        if not failing.failed:
            break  # the change made fewer than k writes: every one of them has been failed
        failures += 1
    assert failures >= 1


def test_ending_a_session_with_more_than_one_transaction_holds_ends_it_last(store: DynamoDBStore) -> None:
    grants = [f"g{i}" for i in range(40)]  # 40 grant marks + 80 token writes + the session: 121 items
    store.create_session(Session("s", "usr", int(NOW), NOW + 600))
    for grant_id in grants:
        store.create_grant(Grant(grant_id, "spa", "usr", "openid", int(NOW), NOW, NOW + 86400, "s"))
        store.save_access_token(AccessTokenRecord(f"{grant_id}-at", "spa", grant_id, NOW + 900))
    client = store._db
    store._made = FailingWrite(client, 2)
    with pytest.raises(EndpointConnectionError):
        store.end_session("s")
    store._made = client
    assert store.get_session("s", NOW) is not None  # the session is ended in the last transaction
    assert all(_grants_revoked(store, *grants))  # the first one marks every grant: its tokens are refused
    store.end_session("s")
    assert store.get_session("s", NOW) is None
    assert all(_grants_revoked(store, *grants))
    assert all(_revoked(store, *(f"{g}-at" for g in grants)))
