"""Compact JWS from :class:`SigningKey`: the protected header it remembers is the one it would build."""

from __future__ import annotations

import json
from pathlib import Path

from tessera.encoding import b64url_decode, json_dumps
from tessera.keys.ring import KeyRing
from tessera.keys.sealing import MasterKey
from tessera.keys.signing import SigningKey, sign_compact
from tessera.store.sqlite import SQLiteStore


def _header(token: str) -> dict[str, str]:
    header = json.loads(b64url_decode(token.split(".", maxsplit=1)[0]))
    assert isinstance(header, dict)
    return header


def test_repeated_tokens_are_the_tokens_built_from_scratch() -> None:
    key = SigningKey.generate("RS256")  # PKCS#1 v1.5: the same input gives the same signature
    claims = {"iss": "https://issuer.example", "sub": "svc", "scope": "a b"}
    for typ in ("at+jwt", "JWT", None, "at+jwt", "JWT", None):
        expected_header = {"alg": "RS256", "kid": key.kid, **({"typ": typ} if typ else {})}
        assert key.sign_jwt(claims, typ=typ) == sign_compact(expected_header, json_dumps(claims), key.sign)


def test_extra_header_members_are_not_remembered_for_later_tokens() -> None:
    key = SigningKey.generate("ES256")
    assert _header(key.sign_jwt({"a": 1}, typ="JWT", kid="other")) == {
        "alg": "ES256",
        "kid": "other",
        "typ": "JWT",
    }
    assert _header(key.sign_jwt({"a": 1}, typ="JWT")) == {"alg": "ES256", "kid": key.kid, "typ": "JWT"}
    assert _header(key.sign_jwt({"a": 1}, typ="JWT", cty="x")) == {
        "alg": "ES256",
        "kid": key.kid,
        "typ": "JWT",
        "cty": "x",
    }


def test_after_a_rotation_the_rings_tokens_name_the_new_current_key(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "keys.db")
    ring = KeyRing(store, MasterKey.generate(), "RS256")
    ring.ensure()
    old = ring.signing_key()
    assert _header(old.sign_jwt({"a": 1}, typ="at+jwt"))["kid"] == old.kid
    current = ring.rotate()
    token = ring.signing_key().sign_jwt({"a": 1}, typ="at+jwt")
    assert _header(token) == {"alg": "RS256", "kid": current.kid, "typ": "at+jwt"}
    assert current.kid != old.kid
    store.close()
