"""Google preset: both issuer spellings, each exact; audience is the client; azp with several audiences."""

from __future__ import annotations

from typing import Any

import pytest

from tessera import ANY
from tessera.errors import ConfigurationError, Reason
from tessera.testing import LocalIssuer
from tessera.testing.providers import EXAMPLE, google_id_claims
from tessera.verify import MultiIssuerVerifier
from tessera.verify.presets import GOOGLE_ISSUERS, google

from .conftest import NOW, clock, jwks_keys, rejected, sign_as

CLIENT = EXAMPLE.google_client_id


def id_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"now": NOW, **overrides}
    return google_id_claims(client_id=CLIENT, **settings)


def verifier_for(accounts: LocalIssuer, client_id: Any = CLIENT) -> MultiIssuerVerifier:
    return google(client_id=client_id, keys=jwks_keys(accounts), clock=clock)


@pytest.mark.parametrize("iss", GOOGLE_ISSUERS)
def test_both_issuer_spellings_are_accepted(google_accounts: LocalIssuer, iss: str) -> None:
    verifier = verifier_for(google_accounts)

    claims = verifier.verify(sign_as(google_accounts, id_claims(issuer=iss)))

    assert claims.issuer == iss
    assert claims["email_verified"] is True
    assert verifier.issuers == {"https://accounts.google.com", "accounts.google.com"}


@pytest.mark.parametrize(
    "iss",
    [
        "https://accounts.google.com/",
        "accounts.google.com/",
        "http://accounts.google.com",
        "https://ACCOUNTS.google.com",
        "https://accounts.google.com.evil",
        "accounts.google.co",
        "https://securetoken.google.com/tessera-test-1234",
    ],
)
def test_ver45_other_issuer_spellings_are_rejected(google_accounts: LocalIssuer, iss: str) -> None:
    verifier = verifier_for(google_accounts)

    rejected(verifier, sign_as(google_accounts, id_claims(issuer=iss)), Reason.WRONG_ISSUER)
    assert verifier.verify(sign_as(google_accounts, id_claims())).subject


def test_ver47_token_for_another_client_is_rejected(google_accounts: LocalIssuer) -> None:
    verifier = verifier_for(google_accounts)

    other = id_claims(aud="999-other.apps.googleusercontent.com", azp="999-other.apps.googleusercontent.com")

    rejected(verifier, sign_as(google_accounts, other), Reason.WRONG_AUDIENCE)
    rejected(verifier, sign_as(google_accounts, id_claims(aud=None)), Reason.MISSING_CLAIM, "aud")


def test_single_audience_with_another_azp_is_accepted(google_accounts: LocalIssuer) -> None:
    verifier = verifier_for(google_accounts)

    android = id_claims(azp="555-android.apps.googleusercontent.com")

    assert verifier.verify(sign_as(google_accounts, android)).audience == (CLIENT,)


def test_ver47_several_audiences_need_azp_equal_to_the_client(google_accounts: LocalIssuer) -> None:
    verifier = verifier_for(google_accounts)
    audiences = [CLIENT, "999-other.apps.googleusercontent.com"]

    rejected(
        verifier, sign_as(google_accounts, id_claims(aud=audiences, azp=None)), Reason.MISSING_CLAIM, "azp"
    )
    wrong_azp = id_claims(aud=audiences, azp="999-other.apps.googleusercontent.com")
    rejected(verifier, sign_as(google_accounts, wrong_azp), Reason.WRONG_CLIENT, "azp")
    rejected(verifier, sign_as(google_accounts, id_claims(aud=audiences, azp=[CLIENT])), Reason.WRONG_CLIENT)
    assert verifier.verify(sign_as(google_accounts, id_claims(aud=audiences, azp=CLIENT))).subject


def test_expired_token_is_rejected(google_accounts: LocalIssuer) -> None:
    verifier = verifier_for(google_accounts)

    rejected(verifier, sign_as(google_accounts, id_claims(now=NOW - 3700)), Reason.EXPIRED)
    assert verifier.verify(sign_as(google_accounts, id_claims(now=NOW - 3500))).subject


def test_ver46_key_of_another_issuer_is_rejected(google_accounts: LocalIssuer) -> None:
    verifier = verifier_for(google_accounts)
    other = LocalIssuer(url="https://accounts.google.com")

    for iss in GOOGLE_ISSUERS:
        rejected(verifier, sign_as(other, id_claims(issuer=iss)), Reason.UNKNOWN_KEY)
        forged = sign_as(other, id_claims(issuer=iss), kid=google_accounts.key.kid)
        rejected(verifier, forged, Reason.BAD_SIGNATURE)
        assert verifier.verify(sign_as(google_accounts, id_claims(issuer=iss))).subject


def test_ver46_unknown_issuer_is_rejected_before_any_key_lookup(google_accounts: LocalIssuer) -> None:
    verifier = verifier_for(google_accounts)

    rejected(
        verifier, sign_as(google_accounts, id_claims(issuer="https://evil.example")), Reason.WRONG_ISSUER
    )


@pytest.mark.parametrize("client_id", [ANY, "", [], ["ok", ""]])
def test_client_id_must_be_given(client_id: Any) -> None:
    with pytest.raises(ConfigurationError):
        google(client_id=client_id)
