"""Signature vectors from RFC 7515 Appendix A and RFC 7520 §4 verify; one flipped bit does not."""

from __future__ import annotations

import pytest

from tessera import ANY, TokenError, Verifier
from tessera.encoding import b64url_decode, b64url_encode
from tessera.errors import Reason
from tessera.verify import jws
from tessera.verify.keys import key_from_jwk, key_from_secret

RFC7515_CLOCK = 1300819000  # before the vectors' exp of 1300819380
RFC7515_A1_HS256 = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)
RFC7515_A1_KEY = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
RFC7515_A3_ES256 = (
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)
RFC7515_A3_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}

# RFC 7520 §3.3 (RSA), §3.1 (EC P-521, public part), §3.5 (symmetric) keys of "bilbo.baggins".
RFC7520_RSA = {
    "kty": "RSA",
    "kid": "bilbo.baggins@hobbiton.example",
    "use": "sig",
    "n": "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCp"
    "MaJMRBSFKrKb2wqV"
    "wGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde"
    "3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5g"
    "HdrNP5zw",
    "e": "AQAB",
}
RFC7520_EC = {
    "kty": "EC",
    "kid": "bilbo.baggins@hobbiton.example",
    "use": "sig",
    "crv": "P-521",
    "x": "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
    "y": "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1",
}
RFC7520_HMAC_KEY = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"
RFC7520_PAYLOAD = (
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5k"
    "IGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"
)
RFC7520_VECTORS = {
    "4.1 RS256": (
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9",
        "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA"
        "78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQ"
        "dLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18"
        "kDquDg",
    ),
    "4.2 PS384": (
        "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9",
        "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcb"
        "UrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8I"
        "mUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-"
        "X72Eaw",
    ),
    "4.3 ES512": (
        "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9",
        "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxX"
        "Pn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2",
    ),
    "4.4 HS256": (
        "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9",
        "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0",
    ),
}


def _flip_last_bit_of_first_byte(signature: str) -> str:
    raw = bytearray(b64url_decode(signature))
    raw[0] ^= 1
    return b64url_encode(bytes(raw))


@pytest.mark.parametrize("vector", sorted(RFC7520_VECTORS))
def test_rfc7520_signature_vectors_verify_and_a_flipped_bit_does_not(vector: str) -> None:
    header, signature = RFC7520_VECTORS[vector]
    alg = vector.split()[1]
    if alg.startswith("HS"):
        key = key_from_secret(b64url_decode(RFC7520_HMAC_KEY), [alg])
    else:
        key = key_from_jwk(RFC7520_EC if alg.startswith("ES") else RFC7520_RSA, [alg])
    check = key.check(alg)
    assert check is not None

    parsed = jws.parse(f"{header}.{RFC7520_PAYLOAD}.{signature}")
    assert parsed.header.alg == alg
    assert parsed.header.kid is not None
    assert check(parsed.signature, parsed.signing_input) is True

    forged = jws.parse(f"{header}.{RFC7520_PAYLOAD}.{_flip_last_bit_of_first_byte(signature)}")
    assert check(forged.signature, forged.signing_input) is False


def test_rfc7515_a1_hs256_verifies_end_to_end() -> None:
    verifier = Verifier(
        issuer="joe",
        audience=ANY,
        token_type=ANY,
        secret=b64url_decode(RFC7515_A1_KEY),
        required_claims=(),
        clock=lambda: RFC7515_CLOCK,
    )
    claims = verifier.verify(RFC7515_A1_HS256)
    assert claims["http://example.com/is_root"] is True
    head, payload, signature = RFC7515_A1_HS256.split(".")
    with pytest.raises(TokenError) as caught:
        verifier.verify(f"{head}.{payload}.{_flip_last_bit_of_first_byte(signature)}")
    assert caught.value.reason is Reason.BAD_SIGNATURE


def test_rfc7515_a3_es256_verifies_end_to_end() -> None:
    verifier = Verifier(
        issuer="joe",
        audience=ANY,
        token_type=ANY,
        jwks={"keys": [RFC7515_A3_KEY]},
        required_claims=(),
        clock=lambda: RFC7515_CLOCK,
    )
    assert verifier.verify(RFC7515_A3_ES256).issuer == "joe"
    head, payload, signature = RFC7515_A3_ES256.split(".")
    with pytest.raises(TokenError) as caught:
        verifier.verify(f"{head}.{payload}.{_flip_last_bit_of_first_byte(signature)}")
    assert caught.value.reason is Reason.BAD_SIGNATURE
