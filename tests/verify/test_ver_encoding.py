"""Catalogue §1.5: structure, base64url, UTF-8, JSON and size (VER-28..VER-35)."""

from __future__ import annotations

import pytest

from tessera import TokenError, Verifier
from tessera.encoding import b64url_encode
from tessera.errors import Reason
from tessera.testing import LocalIssuer
from tessera.testing.forge import claims_at, raw_json, sign_raw

from .conftest import NOW, MakeVerifier


def _reason(verifier: Verifier, token: str | bytes) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    return caught.value.reason


def _header(issuer: LocalIssuer) -> bytes:
    return raw_json({"alg": "RS256", "typ": "at+jwt", "kid": issuer.key.kid})


def _genuine(issuer: LocalIssuer) -> str:
    return issuer.mint(claims_at(issuer.issuer, NOW))


def test_ver28_token_structure_variants_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    genuine = _genuine(rsa_issuer)
    head, payload, signature = genuine.split(".")
    variants = [
        f"{head}.{payload}",
        f"{genuine}.xyz",
        f".{payload}.{signature}",
        f"{head}..{signature}",
        f" {genuine}",
        f"{genuine} ",
        f"{head}.{payload[:10]}\n{payload[10:]}.{signature}",
        f'"{genuine}"',
        f"Bearer  {genuine}",
        "",
    ]
    for token in variants:
        assert _reason(verifier, token) is Reason.MALFORMED, token[:20]
    assert verifier.verify(genuine).subject == "user-123"


def test_ver29_non_canonical_base64url_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    genuine = _genuine(rsa_issuer)
    head, payload, signature = genuine.split(".")
    padded_payload = payload + "=" * (-len(payload) % 4 or 4)
    assert signature[-1] in "AQgw", "RSA-2048 signatures end on a 2-bit boundary"
    trailing_bits = signature[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}[signature[-1]]
    variants = [
        f"{head}.{padded_payload}.{signature}",
        f"{head}.{payload}.{signature}==",
        f"{head.replace('-', '+').replace('_', '/')}.{payload}.{signature}"
        if ("-" in head or "_" in head)
        else f"{head}+.{payload}.{signature}",
        f"{head}.{payload}.{trailing_bits}",
        f"{head}.{payload[:5]}$${payload[5:]}.{signature}",
        f"{head}.{payload[:5]}%20{payload[5:]}.{signature}",
        f"{head}.{payload}.{signature}A"
        if len(signature) % 4 == 0
        else f"{head}.{payload}.{signature[: len(signature) - len(signature) % 4]}A",
    ]
    for token in variants:
        assert _reason(verifier, token) is Reason.MALFORMED, token
    assert verifier.verify(genuine).subject == "user-123"


def test_ver30_invalid_utf8_bom_and_nul_in_alg_are_rejected_but_nul_in_sub_is_kept(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    claims = raw_json(claims_at(rsa_issuer.issuer, NOW))
    sign = rsa_issuer.key.sign
    bad_payloads = [
        claims[:-1] + b',"name":"\xc3\x28"}',
        claims[:-1] + b',"name":"\xc0\xaf"}',
        claims[:-1] + b',"name":"\xed\xa0\x80"}',
        b"\xef\xbb\xbf" + claims,
    ]
    for payload in bad_payloads:
        assert _reason(verifier, sign_raw(_header(rsa_issuer), payload, sign)) is Reason.MALFORMED
    nul_alg = raw_json({"alg": "RS256\u0000", "typ": "at+jwt", "kid": rsa_issuer.key.kid})
    assert _reason(verifier, sign_raw(nul_alg, claims, sign)) is Reason.ALGORITHM_NOT_ALLOWED

    nul_sub = sign_raw(
        _header(rsa_issuer), raw_json(claims_at(rsa_issuer.issuer, NOW, sub="ali\u0000ce")), sign
    )
    assert verifier.verify(nul_sub).subject == "ali\u0000ce"


@pytest.mark.parametrize("document", [b"[]", b'"s"', b"1", b"null", b"true", b""])
@pytest.mark.parametrize("where", ["header", "payload"])
def test_ver31_header_or_payload_not_an_object_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, document: bytes, where: str
) -> None:
    verifier = make_verifier(rsa_issuer)
    header = document if where == "header" else _header(rsa_issuer)
    payload = document if where == "payload" else raw_json(claims_at(rsa_issuer.issuer, NOW))
    reason = _reason(verifier, sign_raw(header, payload, rsa_issuer.key.sign))
    assert reason in {Reason.MALFORMED, Reason.ALGORITHM_NOT_ALLOWED}
    assert verifier.verify(_genuine(rsa_issuer)).subject == "user-123"


@pytest.mark.parametrize("size", [16 * 1024, 1024 * 1024, 10 * 1024 * 1024])
def test_ver32_oversized_tokens_are_rejected_before_decoding(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, size: int
) -> None:
    verifier = make_verifier(rsa_issuer)
    huge = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW, x="a" * size))
    not_even_base64 = "$" * size

    assert _reason(verifier, huge) is Reason.TOO_LARGE
    assert _reason(verifier, not_even_base64) is Reason.TOO_LARGE
    assert _reason(verifier, not_even_base64.encode()) is Reason.TOO_LARGE
    assert verifier.verify(_genuine(rsa_issuer)).subject == "user-123"


def test_ver33_deep_nesting_huge_and_non_standard_numbers_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer, max_token_bytes=65536)
    claims = raw_json(claims_at(rsa_issuer.issuer, NOW))
    sign = rsa_issuer.key.sign
    nested = b'{"a":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    variants = [
        nested,
        claims[:-1] + b',"big":' + b"9" * 5000 + b"}",
        claims.replace(b'"exp":', b'"exp":1e999,"x":', 1),
        claims[:-1] + b',"n":NaN}',
        claims[:-1] + b',"n":Infinity}',
        claims[:-1] + b',"n":-Infinity}',
    ]
    for payload in variants:
        assert _reason(verifier, sign_raw(_header(rsa_issuer), payload, sign)) in {
            Reason.MALFORMED,
            Reason.INVALID_CLAIM,
        }
    assert verifier.verify(_genuine(rsa_issuer)).subject == "user-123"


def test_ver34_claims_changed_under_the_original_signature_never_leak(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    claims = claims_at(rsa_issuer.issuer, NOW)
    genuine = rsa_issuer.mint(claims)
    head, _, signature = genuine.split(".")
    for name in claims:
        marker = f"jwt_inject_5f3a_{name}"
        tampered = b64url_encode(raw_json({**claims, name: marker}))
        with pytest.raises(TokenError) as caught:
            verifier.verify(f"{head}.{tampered}.{signature}")
        assert caught.value.reason is Reason.BAD_SIGNATURE
        assert marker not in str(caught.value) and marker not in repr(caught.value)
    assert verifier.verify(genuine).subject == "user-123"


@pytest.mark.parametrize("value", [None, True, False, "jwt_tool", 0])
def test_ver35_type_injection_under_the_original_signature_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, value: object
) -> None:
    verifier = make_verifier(rsa_issuer)
    claims = claims_at(rsa_issuer.issuer, NOW)
    header = {"alg": "RS256", "typ": "at+jwt", "kid": rsa_issuer.key.kid}
    genuine = sign_raw(raw_json(header), raw_json(claims), rsa_issuer.key.sign)
    _, _, signature = genuine.split(".")
    for name in header:
        forged_head = b64url_encode(raw_json({**header, name: value}))
        reason = _reason(verifier, f"{forged_head}.{genuine.split('.')[1]}.{signature}")
        assert reason in {
            Reason.ALGORITHM_NOT_ALLOWED,
            Reason.MALFORMED,
            Reason.UNKNOWN_KEY,
            Reason.BAD_SIGNATURE,
        }
    for name in claims:
        forged_payload = b64url_encode(raw_json({**claims, name: value}))
        assert (
            _reason(verifier, f"{genuine.split('.')[0]}.{forged_payload}.{signature}") is Reason.BAD_SIGNATURE
        )
    assert verifier.verify(genuine).subject == "user-123"
