"""Catalogue §1.2 and §1.4, and key-set hygiene: VER-09, VER-12..15, VER-17, VER-18, VER-21..26, VER-62."""

from __future__ import annotations

import datetime
import logging
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from tessera import TokenError, Verifier
from tessera.encoding import b64url_encode, b64url_uint
from tessera.errors import ConfigurationError, Reason
from tessera.keys import SigningKey
from tessera.keys.signing import hmac_signer
from tessera.testing import LocalIssuer
from tessera.testing.forge import claims_at, raw_json, sign_raw
from tessera.verify.keyset import JWKSError, parse_jwks

from .conftest import NOW, MakeVerifier


def _reason(verifier: Verifier, token: str) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    return caught.value.reason


def _payload(issuer: LocalIssuer) -> bytes:
    return raw_json(claims_at(issuer.issuer, NOW))


def _self_signed_certificate(key: SigningKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key._private, hashes.SHA256())
    )
    return b64url_encode(cert.public_bytes(serialization.Encoding.DER))


@pytest.mark.parametrize("use_legitimate_kid", [True, False])
def test_ver09_embedded_jwk_x5c_x5t_never_select_the_key(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, use_legitimate_kid: bool
) -> None:
    verifier = make_verifier(rsa_issuer)
    attacker = SigningKey.generate("RS256")
    kid = rsa_issuer.key.kid if use_legitimate_kid else attacker.kid
    headers = [
        {"alg": "RS256", "typ": "at+jwt", "kid": kid, "jwk": attacker.public_jwk()},
        {"alg": "RS256", "typ": "at+jwt", "kid": kid, "x5c": [_self_signed_certificate(attacker)]},
        {"alg": "RS256", "typ": "at+jwt", "kid": kid, "x5t": "attacker-thumbprint"},
    ]
    for header in headers:
        forged = sign_raw(raw_json(header), _payload(rsa_issuer), attacker.sign)
        expected = Reason.BAD_SIGNATURE if use_legitimate_kid else Reason.UNKNOWN_KEY
        assert _reason(verifier, forged) is expected
    ec_attacker = SigningKey.generate("ES256")
    header = {"alg": "ES256", "typ": "at+jwt", "kid": ec_attacker.kid, "jwk": ec_attacker.public_jwk()}
    assert (
        _reason(verifier, sign_raw(raw_json(header), _payload(rsa_issuer), ec_attacker.sign))
        is Reason.UNKNOWN_KEY
    )
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../../../dev/null",
        "/dev/null",
        "/proc/self/environ",
        "..%2f..%2fetc%2fpasswd",
        "C:\\Windows\\win.ini",
        "x' UNION SELECT '1';--",
        "' OR '1'='1",
        "|sleep 10",
        "$(sleep 10)",
        "`id`",
    ],
)
def test_ver12_ver13_kid_injection_is_an_exact_lookup_miss(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, kid: str
) -> None:
    verifier = make_verifier(rsa_issuer)
    hs_forged = sign_raw(raw_json({"alg": "HS256", "kid": kid}), _payload(rsa_issuer), hmac_signer(b""))
    rs_forged = sign_raw(
        raw_json({"alg": "RS256", "typ": "at+jwt", "kid": kid}), _payload(rsa_issuer), rsa_issuer.key.sign
    )

    assert _reason(verifier, hs_forged) is Reason.ALGORITHM_NOT_ALLOWED
    assert _reason(verifier, rs_forged) is Reason.UNKNOWN_KEY
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


def test_ver14_odd_kid_types_and_values_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    real = rsa_issuer.key.kid
    homoglyph = real.replace("A", "\u0391", 1) if "A" in real else "\u0430" + real[1:]
    malformed: list[object] = [None, "", 123, [], {}, "k" * 10_000]
    unknown: list[object] = ["a\u0000b", homoglyph, real + " "]
    for kid in malformed + unknown:
        forged = sign_raw(
            raw_json({"alg": "RS256", "typ": "at+jwt", "kid": kid}), _payload(rsa_issuer), rsa_issuer.key.sign
        )
        reason = _reason(verifier, forged)
        assert reason in (
            {Reason.MALFORMED, Reason.TOO_LARGE} if kid in malformed else {Reason.UNKNOWN_KEY}
        ), kid
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


def test_ver15_missing_kid_with_several_keys_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    no_kid = sign_raw(raw_json({"alg": "RS256", "typ": "at+jwt"}), _payload(rsa_issuer), rsa_issuer.key.sign)

    assert len(rsa_issuer.jwks()["keys"]) == 2
    assert _reason(verifier, no_kid) is Reason.UNKNOWN_KEY
    single = LocalIssuer("RS256", url=rsa_issuer.issuer)
    single_key_jwks = {"keys": [{k: v for k, v in single.key.public_jwk().items() if k != "kid"}]}
    single_verifier = make_verifier(single, jwks=single_key_jwks)
    token = sign_raw(raw_json({"alg": "RS256", "typ": "at+jwt"}), _payload(single), single.key.sign)
    assert single_verifier.verify(token).subject == "user-123"


@pytest.mark.parametrize("member", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"key_ops": "verify"}])
def test_ver17_keys_not_meant_for_signatures_are_unusable(
    rsa_issuer: LocalIssuer,
    make_verifier: MakeVerifier,
    member: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    enc_key = SigningKey.generate("RS256")
    jwks = {"keys": [{**enc_key.public_jwk(), **member}, rsa_issuer.key.public_jwk()]}
    verifier = make_verifier(rsa_issuer, jwks=jwks)
    with caplog.at_level(logging.WARNING, logger="tessera.verify"):
        verifier = make_verifier(rsa_issuer, jwks=jwks)
    assert enc_key.kid in caplog.text

    assert (
        _reason(verifier, enc_key.sign_jwt(claims_at(rsa_issuer.issuer, NOW), typ="at+jwt"))
        is Reason.UNKNOWN_KEY
    )
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


def _weak_jwks() -> dict[str, dict[str, object]]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak_private = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key under test
    small = weak_private.public_key().public_numbers()
    good_ec = SigningKey.generate("ES256").public_jwk()
    good_p384 = SigningKey.generate("ES384").public_jwk()
    strong = SigningKey.generate("RS256").public_jwk()
    return {
        "rsa-1024": {"kty": "RSA", "kid": "rsa-1024", "n": b64url_uint(small.n), "e": b64url_uint(small.e)},
        "e-is-1": {**strong, "kid": "e-is-1", "e": b64url_uint(1), "alg": "RS256"},
        "ec-short-x": {**good_ec, "kid": "ec-short-x", "x": good_ec["x"][:-2]},
        "ec-no-crv": {k: v for k, v in {**good_ec, "kid": "ec-no-crv"}.items() if k != "crv"},
        "p256-with-p384-coords": {
            **good_p384,
            "kid": "p256-with-p384-coords",
            "crv": "P-256",
            "alg": "ES256",
        },
        "ec-off-curve": {**good_ec, "kid": "ec-off-curve", "y": b64url_uint(1, 32)},
        "ec-infinity": {**good_ec, "kid": "ec-infinity", "x": b64url_uint(0, 32), "y": b64url_uint(0, 32)},
        "kty-unknown": {"kty": "XYZ", "kid": "kty-unknown"},
        "oct": {"kty": "oct", "kid": "oct", "k": b64url_encode(b"k" * 32)},
        "rsa-with-private-d": {**strong, "kid": "rsa-with-private-d", "d": "AQAB"},
    }


@pytest.mark.parametrize("name", sorted(_weak_jwks()))
def test_ver18_ver21_ver62_weak_invalid_or_private_keys_are_refused_on_load(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = SigningKey.generate("RS256")
    with caplog.at_level(logging.WARNING, logger="tessera.verify"):
        keys = parse_jwks({"keys": [_weak_jwks()[name], good.public_jwk()]})
    assert name not in keys
    assert good.kid in keys
    assert name in caplog.text


def test_ver18_a_token_naming_a_refused_key_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    weak = _weak_jwks()["rsa-1024"]
    verifier = make_verifier(rsa_issuer, jwks={"keys": [weak, rsa_issuer.key.public_jwk()]})
    forged = sign_raw(
        raw_json({"alg": "RS256", "typ": "at+jwt", "kid": "rsa-1024"}),
        _payload(rsa_issuer),
        rsa_issuer.key.sign,
    )
    assert _reason(verifier, forged) is Reason.UNKNOWN_KEY
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


def test_a_jwks_with_only_unusable_keys_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        Verifier(
            issuer="https://issuer.test",
            audience="api",
            token_type="at+jwt",
            jwks={"keys": [_weak_jwks()["oct"]]},
        )
    documents: list[object] = [{"keys": {}}, {"keys": "x"}, [], {"keys": [{}] * 33}]
    for document in documents:
        with pytest.raises(JWKSError):
            parse_jwks(document)


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["exp2"], "exp2": 1},
        {"crit": []},
        {"crit": "b64"},
        {"crit": [1]},
        {"crit": ["alg"]},
        {"crit": ["x"]},
        {"b64": False, "crit": ["b64"]},
        {"b64": False},
        {"b64": True, "crit": ["b64"]},
        {"zip": "DEF"},
    ],
)
def test_ver22_ver23_ver26_crit_b64_and_zip_headers_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, extra: dict[str, object]
) -> None:
    verifier = make_verifier(rsa_issuer)
    header = {"alg": "RS256", "typ": "at+jwt", "kid": rsa_issuer.key.kid, **extra}
    forged = sign_raw(raw_json(header), _payload(rsa_issuer), rsa_issuer.key.sign)

    assert _reason(verifier, forged) is Reason.UNSUPPORTED_HEADER
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


def test_ver26_a_five_segment_jwe_is_rejected_before_anything_else(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    jwe_header = b64url_encode(raw_json({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": rsa_issuer.key.kid}))
    jwe = ".".join(
        [
            jwe_header,
            b64url_encode(b"k" * 256),
            b64url_encode(b"iv" * 6),
            b64url_encode(b"ct"),
            b64url_encode(b"t" * 16),
        ]
    )
    assert _reason(verifier, jwe) is Reason.MALFORMED


def test_ver27_a_compressed_jwe_bomb_is_refused_on_size_without_inflating(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    bomb_header = b64url_encode(
        raw_json({"alg": "RSA-OAEP", "enc": "A256GCM", "zip": "DEF", "kid": rsa_issuer.key.kid})
    )
    deflated = zlib.compress(b"u" * 40_000_000, 9) * 2  # inflates to 80 MB
    bomb = ".".join(
        [bomb_header, b64url_encode(b"k" * 256), b64url_encode(b"iv" * 6), b64url_encode(deflated), "AA"]
    )
    assert len(bomb) > 100_000
    assert _reason(verifier, bomb) is Reason.TOO_LARGE
    small = ".".join(
        [bomb_header, b64url_encode(b"k" * 256), b64url_encode(b"iv" * 6), b64url_encode(b"x"), "AA"]
    )
    assert _reason(verifier, small) is Reason.MALFORMED
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


@pytest.mark.parametrize(
    "raw_header",
    [
        b'{"alg":"RS256","alg":"HS256","typ":"at+jwt"}',
        b'{"alg":"none","alg":"RS256","typ":"at+jwt"}',
        b'{"alg":"RS256","\\u0061lg":"HS256","typ":"at+jwt"}',
        b'{"alg":"RS256","kid":"a","kid":"b","typ":"at+jwt"}',
    ],
)
def test_ver24_duplicate_header_members_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, raw_header: bytes
) -> None:
    verifier = make_verifier(rsa_issuer)
    forged = sign_raw(raw_header, _payload(rsa_issuer), rsa_issuer.key.sign)
    assert _reason(verifier, forged) is Reason.MALFORMED
    assert verifier.verify(rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW))).subject == "user-123"


@pytest.mark.parametrize(
    "duplicate",
    [b'"sub":"alice","sub":"admin"', b'"aud":"other","aud":"api"', b'"exp":1,"exp":9999999999'],
)
def test_ver25_duplicate_claims_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, duplicate: bytes
) -> None:
    verifier = make_verifier(rsa_issuer)
    header = raw_json({"alg": "RS256", "typ": "at+jwt", "kid": rsa_issuer.key.kid})
    genuine_payload = _payload(rsa_issuer)
    forged = sign_raw(header, genuine_payload[:-1] + b"," + duplicate + b"}", rsa_issuer.key.sign)

    assert _reason(verifier, forged) is Reason.MALFORMED
    assert verifier.verify(sign_raw(header, genuine_payload, rsa_issuer.key.sign)).subject == "user-123"
