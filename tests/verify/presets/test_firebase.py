"""Firebase preset: Google's x509 certificate map, project audience, uid and auth_time rules."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.encoding import json_dumps
from tessera.errors import ConfigurationError, Reason
from tessera.keys.signing import sign_compact
from tessera.testing import LocalIssuer
from tessera.testing.providers import EXAMPLE, firebase_id_claims, x509_certificates
from tessera.verify import KeySet, Verifier
from tessera.verify.presets import firebase, parse_x509_certificates

from .conftest import NOW, clock, rejected, sign_as

PROJECT = EXAMPLE.firebase_project_id
ISSUER = f"https://securetoken.google.com/{PROJECT}"


def id_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"now": NOW, **overrides}
    return firebase_id_claims(project_id=PROJECT, **settings)


def certificate_keys(project: LocalIssuer) -> KeySet:
    return KeySet(parse_x509_certificates(x509_certificates(project.published, now=NOW - 3600), now=NOW))


def verifier_for(project: LocalIssuer, **options: Any) -> Verifier:
    settings: dict[str, Any] = {"keys": certificate_keys(project), "clock": clock, **options}
    return firebase(project_id=PROJECT, **settings)


def test_id_token_accepted_with_uid_as_subject(firebase_project: LocalIssuer) -> None:
    verifier = verifier_for(firebase_project)

    claims = verifier.verify(sign_as(firebase_project, id_claims(uid="kRp3lYzq8uX0yOq2bD6Hn1fTqWc2")))

    assert claims.subject == "kRp3lYzq8uX0yOq2bD6Hn1fTqWc2"
    assert claims.issuer == ISSUER
    assert claims["firebase"]["sign_in_provider"] == "password"


@pytest.mark.parametrize(
    "iss",
    [
        ISSUER + "/",
        ISSUER.replace("https://", "http://"),
        "https://securetoken.google.com/other-project-1",
        "https://accounts.google.com",
        f"https://session.firebase.google.com/{PROJECT}",
    ],
)
def test_ver45_wrong_issuer_spelling_is_rejected(firebase_project: LocalIssuer, iss: str) -> None:
    verifier = verifier_for(firebase_project)

    rejected(verifier, sign_as(firebase_project, id_claims(iss=iss)), Reason.WRONG_ISSUER)
    assert verifier.verify(sign_as(firebase_project, id_claims())).issuer == ISSUER


@pytest.mark.parametrize("aud", ["other-project-1", [f"{PROJECT}x"], PROJECT.upper()])
def test_ver47_audience_must_be_the_project(firebase_project: LocalIssuer, aud: object) -> None:
    verifier = verifier_for(firebase_project)

    rejected(verifier, sign_as(firebase_project, id_claims(aud=aud)), Reason.WRONG_AUDIENCE)
    assert verifier.verify(sign_as(firebase_project, id_claims(aud=[PROJECT]))).subject


@pytest.mark.parametrize(
    ("sub", "reason"),
    [("", Reason.INVALID_CLAIM), ("u" * 129, Reason.INVALID_CLAIM), (None, Reason.MISSING_CLAIM)],
)
def test_uid_must_be_non_empty_and_at_most_128_chars(
    firebase_project: LocalIssuer, sub: str | None, reason: Reason
) -> None:
    verifier = verifier_for(firebase_project)

    rejected(verifier, sign_as(firebase_project, id_claims(sub=sub)), reason, "sub")
    assert verifier.verify(sign_as(firebase_project, id_claims(uid="u" * 128))).subject == "u" * 128


def test_auth_time_must_be_present_and_in_the_past(firebase_project: LocalIssuer) -> None:
    verifier = verifier_for(firebase_project)

    rejected(
        verifier, sign_as(firebase_project, id_claims(auth_time=None)), Reason.MISSING_CLAIM, "auth_time"
    )
    future = id_claims(auth_time=NOW + 61)
    rejected(verifier, sign_as(firebase_project, future), Reason.INVALID_CLAIM, "auth_time")
    rejected(verifier, sign_as(firebase_project, id_claims(auth_time="0")), Reason.INVALID_CLAIM, "auth_time")
    assert verifier.verify(sign_as(firebase_project, id_claims(auth_time=NOW + 59))).subject
    assert verifier.verify(sign_as(firebase_project, id_claims(auth_time=NOW - 86400 * 30))).subject


def test_expired_token_is_rejected(firebase_project: LocalIssuer) -> None:
    verifier = verifier_for(firebase_project)

    rejected(verifier, sign_as(firebase_project, id_claims(now=NOW - 3661)), Reason.EXPIRED)
    assert verifier.verify(sign_as(firebase_project, id_claims(now=NOW - 3500))).subject


def test_ver46_key_of_another_issuer_is_rejected(firebase_project: LocalIssuer) -> None:
    verifier = verifier_for(firebase_project)
    other = LocalIssuer(url="https://securetoken.google.com/other-project-1")

    rejected(verifier, sign_as(other, id_claims()), Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(other, id_claims(), kid=firebase_project.key.kid), Reason.BAD_SIGNATURE)
    assert verifier.verify(sign_as(firebase_project, id_claims())).subject


def test_token_without_kid_is_rejected(firebase_project: LocalIssuer) -> None:
    verifier = verifier_for(firebase_project)

    no_kid = sign_compact({"alg": "RS256", "typ": "JWT"}, json_dumps(id_claims()), firebase_project.key.sign)

    rejected(verifier, no_kid, Reason.UNKNOWN_KEY)
    rejected(verifier, sign_as(firebase_project, id_claims(), kid=None), Reason.MALFORMED)
    assert verifier.verify(sign_as(firebase_project, id_claims())).subject


def test_only_rs256_is_allowed(firebase_project: LocalIssuer) -> None:
    verifier = verifier_for(firebase_project)

    forged = firebase_project.mint(id_claims(), typ="JWT", header={"alg": "PS256"})

    rejected(verifier, forged, Reason.ALGORITHM_NOT_ALLOWED)


@pytest.mark.parametrize("project_id", ["", "My-Project", "ab", "project/../x", "-leading-hyphen", "a" * 31])
def test_project_id_is_validated_at_construction(project_id: str) -> None:
    with pytest.raises(ConfigurationError):
        firebase(project_id=project_id, keys=KeySet({}))


def test_keys_and_jwks_uri_together_are_refused(firebase_project: LocalIssuer) -> None:
    with pytest.raises(ConfigurationError):
        firebase(project_id=PROJECT, keys=certificate_keys(firebase_project), jwks_uri="https://127.0.0.1/x")
