"""A user's own artefacts on every backend: sessions, consents and grants listed; the user erased."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tessera.store import (
    AccessTokenRecord,
    Grant,
    OneTimeCode,
    PasskeyChallenge,
    PasskeyCredential,
    RefreshToken,
    Session,
    Store,
    TotpFactor,
    UpstreamLink,
    User,
)
from tessera.store.sqlite import SQLiteStore
from tessera.store.url import open_store

from .conftest import NOW, fresh_store_url


def _session(session_hash: str, user_id: str, started: float, method: str = "email_code") -> Session:
    return Session(
        session_hash, user_id, int(started), started + 3600, method=method, user_agent="Firefox on Linux"
    )


def _grant(
    grant_id: str, user_id: str, client_id: str, *, created: float = NOW, session: str | None = None
) -> Grant:
    return Grant(
        grant_id, client_id, user_id, "openid offline_access", int(created), created, NOW + 86400, session
    )


def _passkey(credential_id: str, user_id: str) -> PasskeyCredential:
    return PasskeyCredential(credential_id, user_id, b"cose", 0, ("internal",), True, False, "Key", NOW)


def test_a_session_keeps_how_it_began_and_in_which_browser(store: Store) -> None:
    store.create_session(_session("s1", "usr_a", NOW, "passkey"))
    assert store.get_session("s1", NOW) == Session(
        "s1", "usr_a", int(NOW), NOW + 3600, method="passkey", user_agent="Firefox on Linux"
    )
    store.create_session(Session("s2", "usr_a", int(NOW), NOW + 60))
    plain = store.get_session("s2", NOW)
    assert plain is not None and (plain.method, plain.user_agent) == ("", "")


def test_a_users_live_sessions_are_listed_newest_first(store: Store) -> None:
    store.create_session(_session("old", "usr_a", NOW - 100))
    store.create_session(_session("new", "usr_a", NOW - 10, "sms"))
    store.create_session(_session("ended", "usr_a", NOW - 5))
    store.create_session(_session("expired", "usr_a", NOW - 4000))
    store.create_session(_session("bobs", "usr_b", NOW))
    store.end_session("ended")
    listed = store.list_sessions("usr_a", NOW)
    assert [(s.session_hash, s.method) for s in listed] == [("new", "sms"), ("old", "email_code")]
    assert [s.session_hash for s in store.list_sessions("usr_b", NOW)] == ["bobs"]
    assert store.list_sessions("usr_nobody", NOW) == ()
    store.end_session("new")
    assert [s.session_hash for s in store.list_sessions("usr_a", NOW)] == ["old"]


def test_a_users_consents_and_live_grants_are_listed(store: Store) -> None:
    store.grant_consent("usr_a", "partner", ["openid", "email"], NOW)
    store.grant_consent("usr_a", "another", ["openid"], NOW + 1)
    store.grant_consent("usr_b", "partner", ["openid"], NOW)
    store.create_grant(_grant("g-old", "usr_a", "spa", created=NOW - 50))
    store.create_grant(_grant("g-new", "usr_a", "partner", created=NOW - 5))
    store.create_grant(_grant("g-revoked", "usr_a", "spa"))
    store.revoke_grant("g-revoked")
    store.create_grant(Grant("g-expired", "spa", "usr_a", "openid", int(NOW), NOW - 90, NOW - 1))
    store.create_grant(_grant("g-bob", "usr_b", "spa"))
    assert [(c.client_id, c.scopes) for c in store.list_consents("usr_a")] == [
        ("another", ("openid",)),
        ("partner", ("openid", "email")),
    ]
    assert [g.grant_id for g in store.list_grants("usr_a", NOW)] == ["g-new", "g-old"]
    assert store.list_grants("usr_a", NOW)[0] == _grant("g-new", "usr_a", "partner", created=NOW - 5)
    store.revoke_consent("usr_a", "partner")
    assert [c.client_id for c in store.list_consents("usr_a")] == ["another"]
    assert [g.grant_id for g in store.list_grants("usr_a", NOW)] == ["g-old"]
    assert [g.grant_id for g in store.list_grants("usr_b", NOW)] == ["g-bob"]


def _give_everything(store: Store, user_id: str, email: str, phone: str) -> None:
    """A user with a session, grants and tokens, a consent, a passkey, TOTP and sign-ins in flight."""
    store.put_user(User(user_id, email, phone=phone))
    store.create_session(_session(f"{user_id}-s", user_id, NOW))
    store.create_grant(_grant(f"{user_id}-g1", user_id, "spa", session=f"{user_id}-s"))
    store.create_grant(_grant(f"{user_id}-g2", user_id, "partner"))
    for grant in ("g1", "g2"):
        store.save_refresh(
            RefreshToken(f"{user_id}-{grant}-rt", f"{user_id}-{grant}", "spa", NOW, NOW + 3600)
        )
        store.save_access_token(
            AccessTokenRecord(f"{user_id}-{grant}-at", "spa", f"{user_id}-{grant}", NOW + 900)
        )
    store.grant_consent(user_id, "partner", ["openid"], NOW)
    assert store.add_passkey(_passkey(f"{user_id}-cred", user_id))
    store.put_totp(TotpFactor(user_id, b"sealed", False, 0, NOW))
    assert store.confirm_totp(user_id, 1, ("rc1", "rc2"))
    store.save_one_time_code(OneTimeCode(f"{user_id}-otc-mail", email, "mac", NOW, NOW + 600))
    store.save_one_time_code(OneTimeCode(f"{user_id}-otc-sms", f"tel:{phone}", "mac", NOW, NOW + 600))
    store.save_passkey_challenge(PasskeyChallenge(f"{user_id}-pkc", "register", "bind", user_id, NOW + 300))


def _tokens_dead(store: Store, user_id: str) -> bool:
    for grant in ("g1", "g2"):
        access = store.get_access_token(f"{user_id}-{grant}-at")
        if access is None or not access.revoked:
            return False
        if store.get_grant(f"{user_id}-{grant}") is not None:
            return False
        refresh = store.get_refresh(f"{user_id}-{grant}-rt")
        # SQL stores delete the refresh tokens; DynamoDB keeps them (no index by grant) until their
        # TTL, refused at /token because their grant is gone.
        if refresh is not None and store.get_grant(refresh.grant_id) is not None:
            return False
    return True


def test_erasing_a_user_removes_everything_of_theirs_and_nothing_else(store: Store) -> None:
    _give_everything(store, "usr_a", "Ann@Example.com", "+447400123456")
    _give_everything(store, "usr_b", "bob@example.com", "+447400123457")

    assert store.erase_user("usr_a", NOW) is True

    assert store.get_user("usr_a") is None
    assert store.find_user_by_email("ann@example.com") is None
    assert store.find_user_by_phone("+447400123456") is None
    assert store.get_session("usr_a-s", NOW) is None and store.list_sessions("usr_a", NOW) == ()
    assert store.list_grants("usr_a", NOW) == () and store.list_consents("usr_a") == ()
    assert _tokens_dead(store, "usr_a")
    assert store.get_consent("usr_a", "partner") is None
    assert store.get_passkey("usr_a-cred") is None and store.list_passkeys("usr_a") == ()
    assert store.get_totp("usr_a") is None and not store.use_recovery_code("usr_a", "rc1")
    assert store.attempt_one_time_code("usr_a-otc-mail", 5, NOW) is None
    assert store.attempt_one_time_code("usr_a-otc-sms", 5, NOW) is None
    assert store.consume_passkey_challenge("usr_a-pkc", NOW) is None

    bob = store.get_user("usr_b")
    assert bob is not None and store.find_user_by_phone("+447400123457") == bob
    assert [s.session_hash for s in store.list_sessions("usr_b", NOW)] == ["usr_b-s"]
    assert {g.grant_id for g in store.list_grants("usr_b", NOW)} == {"usr_b-g1", "usr_b-g2"}
    assert not _tokens_dead(store, "usr_b")
    assert store.get_refresh("usr_b-g1-rt") is not None
    assert [c.client_id for c in store.list_consents("usr_b")] == ["partner"]
    assert store.get_passkey("usr_b-cred") is not None and store.get_totp("usr_b") is not None
    assert store.use_recovery_code("usr_b", "rc1")
    assert store.attempt_one_time_code("usr_b-otc-mail", 5, NOW) is not None
    assert store.attempt_one_time_code("usr_b-otc-sms", 5, NOW) is not None
    assert store.consume_passkey_challenge("usr_b-pkc", NOW) is not None

    assert store.erase_user("usr_a", NOW) is False
    store.create_grant(_grant("usr_a-g1", "usr_a", "spa"))
    remade = store.get_grant("usr_a-g1")
    assert remade is not None and remade.revoked  # the marker outlives the user
    store.put_user(User("usr_new", "ann@example.com"))
    fresh = store.find_user_by_email("ANN@example.com")
    assert fresh is not None and fresh.user_id == "usr_new" and store.list_passkeys("usr_new") == ()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_erasing_a_user_drops_their_upstream_links(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """SQLite and PostgreSQL (DynamoDB's erase_user does not reach upstream links yet)."""
    store: Any = open_store(fresh_store_url(kind, request, tmp_path))
    store.put_user(User("usr_a", "a@example.com"))
    store.put_user(User("usr_b", "b@example.com"))
    assert store.link_upstream(UpstreamLink("github", "123", "usr_a", NOW))
    assert store.link_upstream(UpstreamLink("github", "456", "usr_b", NOW))
    store.create_session(_session("s-a", "usr_a", NOW))
    store.mark_session_upstream("s-a", "github", NOW + 3600)
    assert store.erase_user("usr_a", NOW)
    assert store.find_upstream_link("github", "123") is None
    assert store.session_upstream("s-a", NOW) is None
    assert store.find_upstream_link("github", "456") is not None
    store.close()


def test_a_sqlite_file_from_before_session_details_gains_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE sessions (session_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
            "auth_time INTEGER NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
        )
        db.execute("INSERT INTO sessions VALUES ('s-old', 'usr_a', ?, ?, 0)", (int(NOW), NOW + 60))
    store = SQLiteStore(path)
    SQLiteStore(path).close()  # a second opening finds the columns there
    old = store.get_session("s-old", NOW)
    assert old == Session("s-old", "usr_a", int(NOW), NOW + 60)
    store.create_session(_session("s-new", "usr_a", NOW + 1, "magic_link"))
    assert [(s.session_hash, s.method) for s in store.list_sessions("usr_a", NOW)] == [
        ("s-new", "magic_link"),
        ("s-old", ""),
    ]
