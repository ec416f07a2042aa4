"""Catalogue §1.1 and §1.3: algorithm handling and ECDSA signatures (VER-01..08, VER-19..21)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tessera import ConfigurationError, TokenError, Verifier
from tessera.encoding import b64url_encode
from tessera.errors import Reason
from tessera.keys import SigningKey
from tessera.keys.signing import hmac_signer
from tessera.testing import LocalIssuer
from tessera.testing.forge import claims_at, raw_json, sign_raw

from .conftest import NOW, MakeVerifier

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _reason(verifier: Verifier, token: str) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.error == "invalid_token"
    return caught.value.reason


def _genuine(issuer: LocalIssuer) -> str:
    return issuer.mint(claims_at(issuer.issuer, NOW))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("keep_signature", [False, True])
def test_ver01_alg_none_in_every_spelling_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, alg: str, keep_signature: bool
) -> None:
    verifier = make_verifier(rsa_issuer)
    genuine = _genuine(rsa_issuer)
    _, payload, signature = genuine.split(".")
    header = b64url_encode(raw_json({"alg": alg, "typ": "at+jwt", "kid": rsa_issuer.key.kid}))
    forged = f"{header}.{payload}.{signature if keep_signature else ''}"

    assert _reason(verifier, forged) in {Reason.ALGORITHM_NOT_ALLOWED, Reason.MALFORMED}
    assert verifier.verify(genuine).subject == "user-123"


@pytest.mark.parametrize("header", [None, {"alg": "none", "typ": "at+jwt"}])
def test_ver02_stripped_signature_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, header: dict[str, str] | None
) -> None:
    verifier = make_verifier(rsa_issuer)
    genuine = _genuine(rsa_issuer)
    head, payload, _ = genuine.split(".")
    if header is not None:
        head = b64url_encode(raw_json(header))

    assert _reason(verifier, f"{head}.{payload}.") is Reason.MALFORMED
    assert verifier.verify(genuine).subject == "user-123"


def test_ver03_corrupted_swapped_and_odd_length_signatures_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    token_a = _genuine(rsa_issuer)
    token_b = rsa_issuer.mint(claims_at(rsa_issuer.issuer, NOW, sub="bob"))
    head_b, payload_b, _ = token_b.split(".")
    signature_a = token_a.split(".")[2]

    assert _reason(verifier, token_a[:-4]) in {Reason.BAD_SIGNATURE, Reason.MALFORMED}
    assert _reason(verifier, f"{head_b}.{payload_b}.{signature_a}") is Reason.BAD_SIGNATURE
    assert _reason(verifier, f"{head_b}.{payload_b}.{b64url_encode(b'x')}") is Reason.BAD_SIGNATURE
    assert _reason(verifier, f"{head_b}.{payload_b}.{b64url_encode(bytes(10240))}") is Reason.TOO_LARGE
    assert verifier.verify(token_b).subject == "bob"


def _public_encodings(key: SigningKey) -> dict[str, bytes]:
    public = key.public_key
    spki = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    encodings = {
        "spki-pem": spki,
        "spki-pem-no-newline": spki.rstrip(b"\n"),
        "spki-der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "jwk-json": json.dumps(key.public_jwk()).encode(),
        "openssh": public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
    }
    if key.alg.startswith("RS"):
        encodings["pkcs1-pem"] = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
        encodings["raw-modulus"] = public.public_numbers().n.to_bytes(256, "big")
    return encodings


@pytest.mark.parametrize("issuer_fixture", ["rsa_issuer", "ec_issuer"])
def test_ver04_ver05_hs256_keyed_with_the_public_key_in_any_encoding_is_rejected(
    request: pytest.FixtureRequest, make_verifier: MakeVerifier, issuer_fixture: str
) -> None:
    issuer: LocalIssuer = request.getfixturevalue(issuer_fixture)
    verifier = make_verifier(issuer)
    payload = raw_json(claims_at(issuer.issuer, NOW))
    header = raw_json({"alg": "HS256", "typ": "at+jwt", "kid": issuer.key.kid})

    for name, secret in _public_encodings(issuer.key).items():
        forged = sign_raw(header, payload, hmac_signer(secret))
        assert _reason(verifier, forged) is Reason.ALGORITHM_NOT_ALLOWED, name
    assert verifier.verify(_genuine(issuer)).subject == "user-123"


def test_ver04_hs_needs_an_explicit_secret_and_a_secret_never_verifies_rs(rsa_issuer: LocalIssuer) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(
            issuer=rsa_issuer.issuer,
            audience="api",
            token_type="at+jwt",
            jwks=rsa_issuer.jwks(),
            algorithms=["HS256"],
        )
    secret = b"s" * 32
    hs_verifier = Verifier(
        issuer=rsa_issuer.issuer, audience="api", token_type="at+jwt", secret=secret, clock=lambda: NOW
    )

    assert _reason(hs_verifier, _genuine(rsa_issuer)) is Reason.ALGORITHM_NOT_ALLOWED
    header = raw_json({"alg": "HS256", "typ": "at+jwt"})
    genuine = sign_raw(header, raw_json(claims_at(rsa_issuer.issuer, NOW)), hmac_signer(secret))
    assert hs_verifier.verify(genuine).subject == "user-123"


def test_ver06_substitution_inside_an_algorithm_family_is_rejected(make_verifier: MakeVerifier) -> None:
    issuer = LocalIssuer("RS256", url="https://issuer.test")
    verifier = make_verifier(issuer)
    payload = raw_json(claims_at(issuer.issuer, NOW))
    private = issuer.key._private

    for alg in ("RS512", "PS256"):
        substitute = SigningKey(private, alg, kid=issuer.key.kid)
        header = raw_json({"alg": alg, "typ": "at+jwt", "kid": issuer.key.kid})
        assert _reason(verifier, sign_raw(header, payload, substitute.sign)) is Reason.ALGORITHM_NOT_ALLOWED

    ec_issuer = LocalIssuer("ES256", url="https://issuer.test")
    p384 = SigningKey.generate("ES384", kid=ec_issuer.key.kid)
    header = raw_json({"alg": "ES384", "typ": "at+jwt", "kid": ec_issuer.key.kid})
    assert (
        _reason(make_verifier(ec_issuer), sign_raw(header, payload, p384.sign))
        is Reason.ALGORITHM_NOT_ALLOWED
    )

    no_alg_jwks = {"keys": [{k: v for k, v in issuer.key.public_jwk().items() if k != "alg"}]}
    pinned = make_verifier(issuer, jwks=no_alg_jwks, algorithms=["RS256"])
    rs512 = SigningKey(private, "RS512", kid=issuer.key.kid)
    header = raw_json({"alg": "RS512", "typ": "at+jwt", "kid": issuer.key.kid})
    assert _reason(pinned, sign_raw(header, payload, rs512.sign)) is Reason.ALGORITHM_NOT_ALLOWED
    assert pinned.verify(_genuine(issuer)).subject == "user-123"
    assert verifier.verify(_genuine(issuer)).subject == "user-123"


@pytest.mark.parametrize("alg", [None, "", 123, ["RS256"], "rs256", "RS256 ", "HS1", "RS256\u0000"])
def test_ver07_malformed_alg_values_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, alg: object
) -> None:
    verifier = make_verifier(rsa_issuer)
    header_fields: dict[str, object] = {"typ": "at+jwt", "kid": rsa_issuer.key.kid}
    if alg is not None:
        header_fields["alg"] = alg
    forged = sign_raw(
        raw_json(header_fields), raw_json(claims_at(rsa_issuer.issuer, NOW)), rsa_issuer.key.sign
    )

    assert _reason(verifier, forged) is Reason.ALGORITHM_NOT_ALLOWED
    assert verifier.verify(_genuine(rsa_issuer)).subject == "user-123"


@pytest.mark.parametrize("secret", [b"", b"secret", b"your-256-bit-secret", b"x" * 31])
def test_ver08_short_hmac_secrets_are_refused_at_configuration(secret: bytes) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(issuer="https://issuer.test", audience="api", token_type="at+jwt", secret=secret)


def test_ver08_tokens_signed_with_common_weak_secrets_are_rejected() -> None:
    strong = b"k" * 32
    verifier = Verifier(
        issuer="https://issuer.test", audience="api", token_type="at+jwt", secret=strong, clock=lambda: NOW
    )
    header = raw_json({"alg": "HS256", "typ": "at+jwt"})
    payload = raw_json(claims_at("https://issuer.test", NOW))
    for weak in (b"", b"secret", b"password", b"your-256-bit-secret", b"changeme", b"jwt"):
        assert _reason(verifier, sign_raw(header, payload, hmac_signer(weak))) is Reason.BAD_SIGNATURE
    assert verifier.verify(sign_raw(header, payload, hmac_signer(strong))).subject == "user-123"


def _es256_with_signature(issuer: LocalIssuer, signature: bytes) -> str:
    head, payload, _ = _genuine(issuer).split(".")
    return f"{head}.{payload}.{b64url_encode(signature)}"


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 0), (P256_ORDER, P256_ORDER), (0, 12345), (P256_ORDER, 1)],
    ids=["r=s=0", "r=s=n", "r=0", "r=n,s=1"],
)
def test_ver19_psychic_signatures_are_rejected(
    ec_issuer: LocalIssuer, make_verifier: MakeVerifier, r: int, s: int
) -> None:
    verifier = make_verifier(ec_issuer)
    forged = _es256_with_signature(ec_issuer, r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    assert _reason(verifier, forged) is Reason.BAD_SIGNATURE
    assert verifier.verify(_genuine(ec_issuer)).subject == "user-123"


def test_ver20_der_and_wrong_length_ecdsa_signatures_are_rejected(
    ec_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(ec_issuer)
    genuine = _genuine(ec_issuer)
    head, payload, _ = genuine.split(".")
    signing_input = f"{head}.{payload}".encode()
    der = ec_issuer.key._private.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")

    for signature in (der, raw[:63], raw + b"\x00", raw + bytes(32)):
        assert _reason(verifier, f"{head}.{payload}.{b64url_encode(signature)}") is Reason.BAD_SIGNATURE
    assert verifier.verify(f"{head}.{payload}.{b64url_encode(raw)}").subject == "user-123"
