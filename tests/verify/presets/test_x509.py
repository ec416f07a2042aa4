"""Google's x509 key document: RSA certificates only, strong keys only, within their validity."""

from __future__ import annotations

import logging

import pytest

from tessera.keys import SigningKey
from tessera.testing.providers import x509_certificates
from tessera.verify.keyset import JWKSError
from tessera.verify.presets import parse_x509_certificates
from tessera.verify.presets.x509 import X509_CLOCK_SKEW_SECONDS

from .conftest import NOW

DAY = 86400


@pytest.fixture(scope="module")
def rsa_keys() -> list[SigningKey]:
    return [SigningKey.generate("RS256"), SigningKey.generate("RS256")]


def test_every_valid_rsa_certificate_becomes_an_rs256_key(rsa_keys: list[SigningKey]) -> None:
    document = x509_certificates(rsa_keys, now=NOW - DAY)

    keys = parse_x509_certificates(document, now=NOW)

    assert set(keys) == {k.kid for k in rsa_keys}
    assert all(key.algorithms == {"RS256"} for key in keys.values())


def test_a_parsed_key_verifies_its_own_signature_only(rsa_keys: list[SigningKey]) -> None:
    keys = parse_x509_certificates(x509_certificates(rsa_keys, now=NOW), now=NOW)
    first, second = rsa_keys
    check = keys[first.kid].check("RS256")
    assert check is not None

    assert check(first.sign(b"data"), b"data")
    assert not check(second.sign(b"data"), b"data")


def test_certificates_outside_their_validity_window_are_skipped(
    rsa_keys: list[SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    expired, current = rsa_keys
    skew = X509_CLOCK_SKEW_SECONDS
    document = {
        **x509_certificates([expired], now=NOW - 15 * DAY - skew - 1, valid_seconds=15 * DAY),
        **x509_certificates([current], now=NOW - DAY, valid_seconds=15 * DAY),
    }
    with caplog.at_level(logging.WARNING, "tessera.verify"):
        keys = parse_x509_certificates(document, now=NOW)

    assert set(keys) == {current.kid}
    assert "validity window" in caplog.text
    premature = x509_certificates([expired], now=NOW + skew + 1)
    assert parse_x509_certificates(premature, now=NOW) == {}
    slightly_early = x509_certificates([expired], now=NOW + skew - 1)
    assert set(parse_x509_certificates(slightly_early, now=NOW)) == {expired.kid}


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_non_rsa_certificates_are_skipped(rsa_keys: list[SigningKey], alg: str) -> None:
    other = SigningKey.generate(alg)
    document = x509_certificates([other, rsa_keys[0]], now=NOW)

    assert set(parse_x509_certificates(document, now=NOW)) == {rsa_keys[0].kid}


def test_short_rsa_keys_are_skipped(rsa_keys: list[SigningKey]) -> None:
    weak = SigningKey.generate("RS256", rsa_bits=1024)
    document = x509_certificates([weak, rsa_keys[0]], now=NOW)

    assert set(parse_x509_certificates(document, now=NOW)) == {rsa_keys[0].kid}


def test_garbage_certificates_are_skipped(rsa_keys: list[SigningKey]) -> None:
    document = {
        "junk": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "not-pem": "hello",
        "huge": "A" * 10_000,
        "non-ascii": "é",
        **x509_certificates(rsa_keys[:1], now=NOW),
    }

    assert set(parse_x509_certificates(document, now=NOW)) == {rsa_keys[0].kid}


@pytest.mark.parametrize(
    "document",
    [[], "x", None, {"kid": 1}, {"": "pem"}, {"keys": []}, {f"k{i}": "pem" for i in range(33)}],
)
def test_structurally_wrong_documents_raise(document: object) -> None:
    with pytest.raises(JWKSError):
        parse_x509_certificates(document, now=NOW)
