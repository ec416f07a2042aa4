"""Signing keys: sealed at rest, previous/current/next published, rotation that never strands a token."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.cli import main as cli_main
from tessera.encoding import b64url_encode
from tessera.errors import ConfigurationError
from tessera.keys.ring import KeyRing, RotationConflict
from tessera.keys.sealing import MASTER_KEY_ENV, MasterKey, SealError
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import FakeClock
from tessera.verify import Verifier


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "keys.db")
    yield db
    db.close()


def test_seal_roundtrip_and_tamper_detection() -> None:
    master = MasterKey.generate()
    sealed = master.seal(b"private", "kid-1")
    assert master.open(sealed, "kid-1") == b"private"
    with pytest.raises(SealError):
        master.open(sealed, "kid-2")
    with pytest.raises(SealError):
        MasterKey.generate().open(sealed, "kid-1")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealError):
        master.open(tampered, "kid-1")
    assert master.derive("a") != master.derive("b")


def test_master_key_file_created_0600_and_env_wins(tmp_path: Path) -> None:
    first = MasterKey.load(tmp_path, environ={})
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = MasterKey.load(tmp_path, environ={})
    assert again.derive("x") == first.derive("x")
    from_env = MasterKey.load(tmp_path, environ={MASTER_KEY_ENV: b64url_encode(b"k" * 32)})
    assert from_env.derive("x") != first.derive("x")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError):
        MasterKey.load(tmp_path, environ={})
    with pytest.raises(ConfigurationError):
        MasterKey(b"short")


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_key_set_publishes_three_public_keys(store: SQLiteStore, alg: str) -> None:
    ring = KeyRing(store, MasterKey.generate(), alg)
    ring.ensure()
    jwks = ring.jwks()
    assert len(jwks["keys"]) == 3
    assert all(k["alg"] == alg and "d" not in k for k in jwks["keys"])
    key = ring.signing_key()
    token = key.sign_jwt({"iss": "i", "sub": "s", "aud": "a", "iat": 1, "exp": 2**31}, typ="JWT")
    verifier = Verifier(issuer="i", audience="a", token_type="JWT", jwks=jwks, algorithms=[alg])
    assert verifier.verify(token).subject == "s"
    with sqlite3.connect(store.path) as db:
        blobs = [bytes(r[0]) for r in db.execute("SELECT sealed_private FROM signing_keys")]
    assert all(b"PRIVATE KEY" not in blob for blob in blobs)


def test_unknown_algorithm_refused(store: SQLiteStore) -> None:
    with pytest.raises(ConfigurationError):
        KeyRing(store, MasterKey.generate(), "HS256")


def test_rotation_keeps_cached_verifiers_working(store: SQLiteStore) -> None:
    clock = FakeClock()
    ring = KeyRing(store, MasterKey.generate(), "RS256", clock)
    ring.ensure()
    cached_jwks = ring.jwks()
    cached = Verifier(issuer="i", audience="a", token_type="JWT", jwks=cached_jwks, clock=clock)
    claims = {"iss": "i", "sub": "s", "aud": "a", "iat": int(clock.now), "exp": int(clock.now) + 600}
    before = ring.signing_key().sign_jwt(claims, typ="JWT")
    old_current = ring.records()["current"].kid
    new_current = ring.rotate()
    assert new_current.kid == ring.records()["current"].kid != old_current
    assert ring.records()["previous"].kid == old_current
    after = ring.signing_key().sign_jwt(claims, typ="JWT")
    assert cached.verify(before).subject == "s"
    assert cached.verify(after).subject == "s"
    ring.rotate()
    ring.rotate()
    assert old_current not in {k["kid"] for k in ring.jwks()["keys"]}


def test_concurrent_rotation_conflict_is_detected(store: SQLiteStore) -> None:
    master = MasterKey.generate()
    ring = KeyRing(store, master, "ES256")
    ring.ensure()
    stale = ring.records()
    ring.rotate()
    assert not store.replace_signing_keys(stale["current"].kid, list(stale.values()))
    other = KeyRing(store, master, "ES256")
    other.rotate()
    assert len(other.jwks()["keys"]) == 3
    assert issubclass(RotationConflict, ConfigurationError)


def test_cli_keys_rotate_against_a_dev_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tessera.issue.dev.provider import dev_provider

    setup = dev_provider(tmp_path / "data", "http://127.0.0.1:8123", environ={})
    before = setup.provider.keys.records()
    assert cli_main(["keys", "rotate", "--data", str(tmp_path / "data")]) == 0
    printed = capsys.readouterr().out
    assert before["next"].kid in printed
    after = setup.provider.keys.records()
    assert after["current"].kid == before["next"].kid
    assert after["previous"].kid == before["current"].kid
    assert cli_main(["keys", "rotate", "--data", str(tmp_path / "empty")]) == 2


def test_dev_signing_algorithm_chosen_on_first_start(tmp_path: Path) -> None:
    from tessera.issue.dev.provider import dev_provider

    data = tmp_path / "es"
    setup = dev_provider(data, "http://127.0.0.1:8124", environ={}, signing_alg="ES256")
    assert {k["alg"] for k in setup.provider.keys.jwks()["keys"]} == {"ES256"}
    assert dev_provider(data, "http://127.0.0.1:8124", environ={}).provider.keys.alg == "ES256"
    with pytest.raises(ConfigurationError):
        dev_provider(data, "http://127.0.0.1:8124", environ={}, signing_alg="RS256")
    assert cli_main(["keys", "rotate", "--data", str(data)]) == 0
    assert {k["alg"] for k in setup.provider.keys.jwks()["keys"]} == {"ES256"}
