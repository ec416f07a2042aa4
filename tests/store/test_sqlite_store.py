"""What only the SQLite store has: its tables as files, its settled-row cache; secrets at rest (STO-*).

The behaviour every store shares is in the conformance suite (test_conformance, test_single_use)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tessera.store import (
    AuthorizationCode,
    ClientRecord,
    Grant,
    RefreshToken,
    Session,
    SigningKeyRecord,
    secret_hash,
)
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import code_in

from .conftest import NOW


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "store.db")
    yield db
    db.close()


def _code(code_hash: str = "c1", expires_at: float = NOW + 60) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash, "spa", None, None, "usr_a", "openid", None, int(NOW), "g1", None, expires_at
    )


def _refresh(token_hash: str, expires_at: float = NOW + 3600) -> RefreshToken:
    return RefreshToken(token_hash, "g1", "spa", NOW, expires_at)


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


def test_a_threads_writer_waits_its_turn_instead_of_meeting_a_locked_database(store: SQLiteStore) -> None:
    # The second thread's connection has no busy handler at all: were it to reach BEGIN IMMEDIATE
    # while the first thread's transaction is open, SQLite would refuse it ("database is locked").
    store.create_grant(Grant("g1", "spa", "usr_a", "openid", int(NOW), NOW, NOW + 86400))
    holding, started = threading.Event(), threading.Event()
    release = threading.Event()

    def hold_a_write_transaction() -> None:
        with store._transaction() as db:
            db.execute("UPDATE grants SET revoked = 0 WHERE grant_id = 'g1'")
            holding.set()
            release.wait(10)

    def write_meanwhile() -> None:
        store._connection().execute("PRAGMA busy_timeout=0")
        holding.wait(10)
        started.set()
        store.save_refresh(_refresh("r-meanwhile"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        holder = pool.submit(hold_a_write_transaction)
        writer = pool.submit(write_meanwhile)
        started.wait(10)
        time.sleep(0.2)  # time for the writer to reach its BEGIN while the transaction is open
        release.set()
        holder.result(10)
        writer.result(10)
    saved = store.get_refresh("r-meanwhile")
    assert saved is not None and saved.grant_id == "g1"


def test_a_file_from_before_session_amr_gets_the_column_and_keeps_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE sessions (session_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
            "auth_time INTEGER NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
        )
        old.execute("INSERT INTO sessions VALUES ('s-old', 'usr_a', ?, ?, 0)", (int(NOW), NOW + 600))
    opened = [SQLiteStore(path), SQLiteStore(path)]  # the second finds the column there already
    store = opened[0]
    assert store.get_session("s-old", NOW) == Session("s-old", "usr_a", int(NOW), NOW + 600)
    store.create_session(Session("s-new", "usr_a", int(NOW), NOW + 600, amr=("otp", "mfa")))
    found = opened[1].get_session("s-new", NOW)
    assert found is not None and found.amr == ("otp", "mfa")
    for each in opened:
        each.close()
