"""The verify hot path's shortcuts give exactly the answers of the plain rules they stand in for.

Each shortcut (strict base64url by translation, scanner-only JSON, DER built from bytes, the
claims fast paths, the scope cache, lazy Claims fields) is checked against an independent
reference: the standard library, ``cryptography`` itself, or the rule as the catalogue states it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tessera import Verifier
from tessera.encoding import EncodingError, b64url_decode, json_object
from tessera.errors import Reason, TokenError
from tessera.testing import LocalIssuer
from tessera.testing.forge import claims_at, raw_json, sign_raw
from tessera.verify import jws
from tessera.verify.claims import parse_scope
from tessera.verify.keys import der_signature

from .conftest import NOW, MakeVerifier


def _reason(verifier: Verifier, token: str) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    return caught.value.reason


def _header(issuer: LocalIssuer) -> bytes:
    return raw_json({"alg": issuer.key.alg, "typ": "at+jwt", "kid": issuer.key.kid})


# -- base64url ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", range(40))
def test_b64url_decode_matches_the_standard_library_on_canonical_input(length: int) -> None:
    data = os.urandom(length)
    encoded = base64.urlsafe_b64encode(data).rstrip(b"=")
    assert b64url_decode(encoded) == data
    assert b64url_decode(encoded.decode()) == data


@pytest.mark.parametrize(
    "segment",
    [
        b"QUJD+A",
        b"QUJD/A",
        b"QUJDRA==",
        b"QUJDRA=",
        b"QU!D",
        b"QU D",
        b"QUJD\n",
        b"QU\x00D",
        b"QU\xffD",
        "QUJé",
    ],
)
def test_ver29_b64url_decode_rejects_every_byte_outside_the_url_safe_alphabet(segment: bytes | str) -> None:
    with pytest.raises(EncodingError):
        b64url_decode(segment)
    assert b64url_decode(b"QUJDRA") == b"ABCD"


def test_ver29_b64url_decode_rejects_non_zero_trailing_bits_for_both_partial_lengths() -> None:
    assert b64url_decode(b"QUI") == b"AB"  # 3 characters: 2 unused bits
    assert b64url_decode(b"QQ") == b"A"  # 2 characters: 4 unused bits
    for forged in (b"QUJ", b"QR", b"QUJDR"):
        with pytest.raises(EncodingError):
            b64url_decode(forged)


# -- JSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [b'{"a":1}', b' {"a":1}', b'{"a":1} ', b'\n{"a": [1, {"b": null}]}\t', b'{"a":"\\u00e9","b":1.5e3}'],
)
def test_json_object_agrees_with_json_loads_with_and_without_surrounding_whitespace(text: bytes) -> None:
    assert json_object(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":1}x',
        b'{"a":1}{"b":2}',
        b'{"a":1,"a":2}',
        b'{"a":{"b":1,"b":1}}',
        b'{"a":NaN}',
        b'{"a":-Infinity}',
        b'\xef\xbb\xbf{"a":1}',
        b"[1]",
        b'"s"',
        b"",
        b" ",
        b'{"a":"\xc3\x28"}',
    ],
)
def test_ver31_json_object_rejects_what_the_plain_decoder_rejects(text: bytes) -> None:
    with pytest.raises(EncodingError):
        json_object(text)
    assert json_object(b'{"a":1}') == {"a": 1}


# -- ECDSA signatures ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 48, 66])
def test_der_signature_is_what_cryptography_encodes_for_every_shape_of_r_and_s(size: int) -> None:
    top = 2 ** (8 * size) - 1
    values = [1, 127, 128, 255, 256, 2 ** (8 * size - 1), 2 ** (8 * size - 1) - 1, top, top >> 9]
    values += [int.from_bytes(os.urandom(size), "big") | 1 for _ in range(20)]
    for r in values:
        for s in (values[0], values[7], r):
            raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
            assert der_signature(raw, size) == encode_dss_signature(r, s)


def test_ver19_der_signature_refuses_a_zero_r_or_s() -> None:
    one = (1).to_bytes(32, "big")
    zero = bytes(32)
    assert der_signature(zero + one, 32) is None
    assert der_signature(one + zero, 32) is None
    assert der_signature(one + one, 32) == encode_dss_signature(1, 1)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_every_ecdsa_curve_verifies_through_the_byte_built_der(alg: str, make_verifier: MakeVerifier) -> None:
    issuer = LocalIssuer(alg, url="https://issuer.test")
    verifier = make_verifier(issuer)
    token = issuer.mint(claims_at(issuer.issuer, NOW))
    assert verifier.verify(token).subject == "user-123"
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert _reason(verifier, f"{head}.{payload}.{flipped}") is Reason.BAD_SIGNATURE


# -- JWS structure -----------------------------------------------------------------------------


def test_ver29_a_payload_outside_the_alphabet_is_malformed_whether_or_not_it_is_signed(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    genuine = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    head, payload, signature = genuine.split(".")
    unsigned = f"{head}.{payload[:7]}*{payload[8:]}.{signature}"
    assert _reason(verifier, unsigned) is Reason.MALFORMED
    signed_input = f"{head}.{payload[:7]}*{payload[8:]}"
    signature_of_mangled = base64.urlsafe_b64encode(rsa_issuer.key.sign(signed_input.encode()))
    signed = f"{signed_input}.{signature_of_mangled.rstrip(b'=').decode()}"
    assert _reason(verifier, signed) is Reason.MALFORMED
    with pytest.raises(TokenError) as caught:
        jws.parse(unsigned)
    assert caught.value.reason is Reason.MALFORMED
    assert verifier.verify(genuine).subject == "user-123"


def test_parse_returns_the_parts_split_verifies(rsa_issuer: LocalIssuer) -> None:
    token = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))
    head, payload, signature = token.split(".")
    parsed = jws.parse(token)
    assert (parsed.header.alg, parsed.header.kid, parsed.header.typ) == (
        "RS256",
        rsa_issuer.key.kid,
        "at+jwt",
    )
    assert parsed.signing_input == f"{head}.{payload}".encode()
    assert parsed.signature == b64url_decode(signature)
    assert (
        jws.decode_payload(parsed)
        == jws.decode_payload(payload.encode())
        == json.loads(b64url_decode(payload))
    )


# -- claims ------------------------------------------------------------------------------------


def _verify_claims(issuer: LocalIssuer, verifier: Verifier, **overrides: Any) -> Reason | None:
    token = sign_raw(_header(issuer), raw_json(claims_at(issuer.issuer, NOW, **overrides)), issuer.key.sign)
    try:
        verifier.verify(token)
    except TokenError as exc:
        return exc.reason
    return None


def test_ver35_numeric_dates_off_the_integer_fast_path_follow_the_full_rule(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _verify_claims(rsa_issuer, verifier, exp=NOW + 60.5, iat=NOW - 0.5, nbf=NOW - 1.25) is None
    assert _verify_claims(rsa_issuer, verifier, exp=True) is Reason.INVALID_CLAIM
    assert _verify_claims(rsa_issuer, verifier, exp=str(int(NOW + 600))) is Reason.INVALID_CLAIM
    assert _verify_claims(rsa_issuer, verifier, exp=-1) is Reason.INVALID_CLAIM
    assert _verify_claims(rsa_issuer, verifier, exp=10**20) is Reason.INVALID_CLAIM
    assert _verify_claims(rsa_issuer, verifier, nbf=False) is Reason.INVALID_CLAIM
    assert _verify_claims(rsa_issuer, verifier, iat=[1]) is Reason.INVALID_CLAIM
    assert _verify_claims(rsa_issuer, verifier, exp=NOW - 61) is Reason.EXPIRED
    assert _verify_claims(rsa_issuer, verifier, nbf=NOW + 61) is Reason.NOT_YET_VALID
    assert _verify_claims(rsa_issuer, verifier, iat=NOW + 61) is Reason.ISSUED_IN_FUTURE


def test_ver35_numeric_dates_present_as_null_are_invalid_not_absent(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    claims = claims_at(rsa_issuer.issuer, NOW)
    for name in ("exp", "nbf", "iat"):
        token = sign_raw(_header(rsa_issuer), raw_json({**claims, name: None}), rsa_issuer.key.sign)
        with pytest.raises(TokenError) as caught:
            verifier.verify(token)
        assert (caught.value.reason, caught.value.claim) == (Reason.INVALID_CLAIM, name)
    assert _verify_claims(rsa_issuer, verifier) is None


def test_ver36_token_type_matches_case_insensitively_with_or_without_application_prefix(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    payload = raw_json(claims_at(rsa_issuer.issuer, NOW))
    for typ, expected in [
        ("at+jwt", None),
        ("application/AT+JWT", None),
        ("AT+JWT", None),
        ("JWT", Reason.WRONG_TYPE),
    ]:
        header = raw_json({"alg": "RS256", "typ": typ, "kid": rsa_issuer.key.kid})
        token = sign_raw(header, payload, rsa_issuer.key.sign)
        reason = None
        try:
            verifier.verify(token)
        except TokenError as exc:
            reason = exc.reason
        assert reason is expected, typ


def test_a_cached_scope_string_never_admits_a_malformed_one(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _verify_claims(rsa_issuer, verifier, scope="read write") is None
    assert parse_scope({"scope": "read write"}) == {"read", "write"}
    for bad in (
        "read  write",
        " read",
        "read ",
        'read "write"',
        "read\\write",
        "réad",
        "read\twrite",
        "read read",
    ):
        assert _verify_claims(rsa_issuer, verifier, scope=bad) is Reason.INVALID_CLAIM, bad
    assert parse_scope({"scp": ["read", "write"]}) == {"read", "write"}
    for bad_list in (["read", ""], ["read write"], ["read", 1], ['"x"']):
        with pytest.raises(TokenError):
            parse_scope({"scp": bad_list})


def test_roles_must_be_a_string_or_a_list_of_strings(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    for bad in ([1, "a"], ["a", None], [["a"]], {"a": 1}, None, 3):
        token = sign_raw(
            _header(rsa_issuer),
            raw_json({**claims_at(rsa_issuer.issuer, NOW), "roles": bad}),
            rsa_issuer.key.sign,
        )
        assert _reason(verifier, token) is Reason.INVALID_CLAIM, bad
    token = sign_raw(
        _header(rsa_issuer),
        raw_json({**claims_at(rsa_issuer.issuer, NOW), "roles": ["admin", "ops", "admin"]}),
        rsa_issuer.key.sign,
    )
    assert verifier.verify(token).roles == {"admin", "ops"}


def test_claims_fields_read_the_verified_claims(rsa_issuer: LocalIssuer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(rsa_issuer)
    claims = verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW)))
    assert (claims.subject, claims.issuer, claims.expires_at) == (
        "user-123",
        rsa_issuer.issuer,
        int(NOW) + 900,
    )
    assert claims.client_id == "client-1"
    azp_only = claims_at(rsa_issuer.issuer, NOW, client_id=None, azp="spa-7")
    token = sign_raw(_header(rsa_issuer), raw_json(azp_only), rsa_issuer.key.sign)
    relaxed = make_verifier(rsa_issuer, required_claims=["sub"])
    assert relaxed.verify(token).client_id == "spa-7"


# -- import cost -----------------------------------------------------------------------------

_PROBE = """
import json, sys
import tessera
after_import = set(sys.modules)
from tessera import Verifier
Verifier(issuer="https://issuer.test", audience="api", token_type="at+jwt", jwks=json.loads(sys.argv[1]))
print(json.dumps([sorted(after_import), sorted(sys.modules)]))
"""


def test_the_verify_path_with_its_default_cache_imports_nothing_it_does_not_use(
    rsa_issuer: LocalIssuer,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(rsa_issuer.jwks())],
        capture_output=True,
        text=True,
        check=True,
    )
    after_import, after_key_load = (set(names) for names in json.loads(proc.stdout))
    never = {"pathlib", "logging", "dataclasses", "urllib", "urllib.parse", "asyncio", "hashlib", "hmac"}
    assert not never & after_key_load
    assert not any(m.startswith("cryptography") for m in after_import)
    assert "cryptography.hazmat.primitives.asymmetric.rsa" in after_key_load
    loaded_crypto = {m for m in after_key_load if m.startswith("cryptography")}
    assert not any(m.endswith((".ec", ".ed25519", ".x509")) or ".x509." in m for m in loaded_crypto)
