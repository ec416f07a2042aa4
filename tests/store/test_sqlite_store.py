"""The SQLite store: atomic single use, expiry on read, purge, and secrets at rest (STO-*)."""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tessera.store import (
    AccessTokenRecord,
    AuthorizationCode,
    ClientRecord,
    Grant,
    OneTimeCode,
    RefreshToken,
    Session,
    SigningKeyRecord,
    secret_hash,
)
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import code_in

from .conftest import NOW


def _code(code_hash: str = "c1", expires_at: float = NOW + 60) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash, "spa", None, None, "usr_a", "openid", None, int(NOW), "g1", None, expires_at
    )


def _refresh(token_hash: str, expires_at: float = NOW + 3600) -> RefreshToken:
    return RefreshToken(token_hash, "g1", "spa", NOW, expires_at)


def test_sto02_fifty_parallel_code_consumes_one_winner(store: SQLiteStore) -> None:
    store.save_code(_code())
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: store.consume_code("c1", NOW), range(50)))
    assert results.count(True) == 1
    store.save_code(_code("c2"))
    assert store.consume_code("c2", NOW)


def test_sto02_fifty_parallel_rotations_one_winner(store: SQLiteStore) -> None:
    store.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    store.save_refresh(_refresh("r1"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: store.rotate_refresh("r1", _refresh(f"r1-next-{i}"), NOW).rotated, range(50))
        )
    assert results.count(True) == 1
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM refresh_tokens WHERE state = 'active'").fetchone()[0] == 1


def test_sto02_fifty_parallel_one_time_code_consumes_one_winner(store: SQLiteStore) -> None:
    store.save_one_time_code(OneTimeCode("o1", "a@example.com", "mac", NOW, NOW + 600))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: store.consume_one_time_code("o1", NOW), range(50)))
    assert results.count(True) == 1


def test_sto02_jti_remembered_once(store: SQLiteStore) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: store.remember_jti("client:a", "j1", NOW + 60, NOW), range(50)))
    assert results.count(True) == 1
    assert store.remember_jti("client:b", "j1", NOW + 60, NOW)
    assert store.remember_jti("client:a", "j1", NOW + 120, NOW + 61)


def test_sto09_expiry_enforced_on_read_before_purge(store: SQLiteStore) -> None:
    store.save_code(_code(expires_at=NOW + 60))
    assert store.get_code("c1", NOW + 59) is not None
    assert store.get_code("c1", NOW + 60) is None
    assert not store.consume_code("c1", NOW + 61)
    store.create_session(Session("s1", "usr_a", int(NOW), NOW + 10))
    assert store.get_session("s1", NOW + 9) is not None
    assert store.get_session("s1", NOW + 10) is None
    store.save_one_time_code(OneTimeCode("o1", "a@example.com", "mac", NOW, NOW + 600))
    assert store.attempt_one_time_code("o1", 5, NOW + 601) is None
    assert store.attempt_one_time_code("o1", 5, NOW + 599) is not None
    store.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    store.save_refresh(_refresh("r1", expires_at=NOW + 100))
    assert not store.rotate_refresh("r1", _refresh("r2"), NOW + 100).rotated


def test_purge_removes_expired_rows_but_keeps_live_ones(store: SQLiteStore) -> None:
    store.save_code(_code("old", NOW - 7200))
    store.save_code(_code("new", NOW + 60))
    store.create_session(Session("s-old", "usr_a", int(NOW), NOW - 1))
    store.create_session(Session("s-new", "usr_a", int(NOW), NOW + 100))
    assert store.purge_expired(NOW) >= 2
    assert store.get_code("new", NOW) is not None
    assert store.get_session("s-new", NOW) is not None
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM codes WHERE code_hash = 'old'").fetchone()[0] == 0


def test_revocation_marker_wins_over_a_later_grant(store: SQLiteStore) -> None:
    store.revoke_grant("g9")
    store.create_grant(Grant("g9", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    grant = store.get_grant("g9")
    assert grant is not None
    assert grant.revoked
    store.create_grant(Grant("g10", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    other = store.get_grant("g10")
    assert other is not None
    assert not other.revoked


def test_sto01_sto05_sto06_no_secret_in_tables_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    idp = ProviderHarness(tmp_path)
    tokens = idp.tokens()
    refreshed = idp.refresh(tokens["refresh_token"]).json()
    code, verifier, _ = idp.code()
    service = idp.token({"grant_type": "client_credentials"}, auth=("svc", "svc-secret-" + "y" * 40)).json()
    session = idp.browser.cookies.get("tessera-session")
    mail_code = code_in(idp.wait_for_mail())
    secrets_seen = [
        tokens["refresh_token"],
        refreshed["refresh_token"],
        code,
        verifier,
        session,
        "svc-secret-" + "y" * 40,
        "web-secret-" + "x" * 40,
        tokens["access_token"],
        service["access_token"],
    ]
    with sqlite3.connect(idp.store.path) as db:
        dump = "\n".join(db.iterdump())
    for secret in secrets_seen:
        assert secret
        assert secret not in dump
    assert f"is {mail_code}" not in dump
    assert "PRIVATE KEY" not in dump
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert '"event": "sign_in"' in logged
    assert '"event": "token_issued"' in logged
    for secret in [*secrets_seen, mail_code]:
        assert secret not in logged
    jwks = idp.browser.get("/jwks").text
    assert '"d"' not in jwks
    idp.store.close()


def test_secret_hash_is_sha256_hex() -> None:
    assert secret_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_provider_housekeeping_purges_at_most_every_interval(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path)
    code, _, _ = idp.code()
    secret = ("svc", "svc-secret-" + "y" * 40)
    issued = idp.token({"grant_type": "client_credentials"}, auth=secret).json()["access_token"]
    assert idp.new_browser().post("/revoke", data={"token": issued}, auth=secret).status_code == 200
    with sqlite3.connect(idp.store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM codes").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM access_tokens").fetchone()[0] == 1
    idp.clock.advance(2 * 3600)
    idp.token({"grant_type": "client_credentials"}, auth=secret)
    with sqlite3.connect(idp.store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM codes").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM access_tokens").fetchone()[0] == 0
    assert code
    idp.store.close()


def test_revoking_an_unrecorded_access_token_records_it_revoked(store: SQLiteStore) -> None:
    store.revoke_access_token(AccessTokenRecord("cc-1", "svc", None, NOW + 900))
    revoked = store.get_access_token("cc-1")
    assert revoked is not None and revoked.revoked and revoked.grant_id is None
    store.save_access_token(AccessTokenRecord("grant-1", "web", "g1", NOW + 900))
    live = store.get_access_token("grant-1")
    assert live is not None and not live.revoked
    store.revoke_access_token(AccessTokenRecord("grant-1", "web", None, NOW + 900))
    marked = store.get_access_token("grant-1")
    assert marked is not None and marked.revoked and marked.grant_id == "g1"
    assert store.purge_expired(NOW + 901) >= 2
    assert store.get_access_token("cc-1") is None


def test_remembered_clients_and_keys_follow_writes_from_other_connections(store: SQLiteStore) -> None:
    first = ClientRecord(client_id="svc", name="first", scopes=("a",))
    store.put_client(first)
    assert store.get_client("svc") == first
    other = SQLiteStore(store.path)
    renamed = ClientRecord(client_id="svc", name="renamed", scopes=("a",))
    other.put_client(renamed)
    assert store.get_client("svc") == renamed
    key = SigningKeyRecord("kid-1", "ES256", "current", {"kty": "EC"}, b"sealed", NOW)
    assert other.replace_signing_keys(None, [key])
    assert [k.kid for k in store.list_signing_keys()] == ["kid-1"]
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM clients")
    assert store.get_client("svc") is None
    store.put_client(first)
    assert other.get_client("svc") == first
    other.close()


def test_rotation_revokes_the_grants_earlier_access_tokens_only(store: SQLiteStore) -> None:
    def revoked(jti: str) -> bool:
        record = store.get_access_token(jti)
        assert record is not None
        return record.revoked

    store.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    store.save_refresh(_refresh("r1"))
    store.save_access_token(AccessTokenRecord("at-1", "spa", "g1", NOW + 900))
    store.save_access_token(AccessTokenRecord("other-grant", "spa", "g2", NOW + 900))
    assert not store.rotate_refresh("unknown", _refresh("x"), NOW).rotated
    assert not revoked("at-1")
    assert store.rotate_refresh("r1", _refresh("r2"), NOW).rotated
    assert revoked("at-1")
    assert not revoked("other-grant")
