"""Amazon Cognito preset: issuer and keys from the pool id, token_use, client_id versus aud."""

from __future__ import annotations

from typing import Any

import pytest

from tessera import ANY
from tessera.errors import ConfigurationError, Reason
from tessera.testing import LocalIssuer
from tessera.testing.providers import EXAMPLE, cognito_access_claims, cognito_id_claims
from tessera.verify import Verifier
from tessera.verify.presets import cognito

from .conftest import NOW, clock, jwks_keys, rejected, sign_as

REGION, POOL_ID = EXAMPLE.cognito_region, EXAMPLE.cognito_user_pool_id
CLIENT = EXAMPLE.cognito_client_id
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{EXAMPLE.cognito_user_pool_id}"


def access_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"client_id": CLIENT, "now": NOW, **overrides}
    return cognito_access_claims(region=REGION, user_pool_id=POOL_ID, **settings)


def id_claims(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"client_id": CLIENT, "now": NOW, **overrides}
    return cognito_id_claims(region=REGION, user_pool_id=POOL_ID, **settings)


def verifier_for(pool: LocalIssuer, token_use: str, client_id: Any = CLIENT) -> Verifier:
    return cognito(
        region=REGION,
        user_pool_id=POOL_ID,
        token_use=token_use,  # type: ignore[arg-type]
        client_id=client_id,
        keys=jwks_keys(pool),
        clock=clock,
    )


def test_access_token_accepted_with_groups_as_roles_and_scopes(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access")

    claims = verifier.verify(sign_as(cognito_user_pool, access_claims(groups=["admins", "ops"])))

    assert claims.issuer == ISSUER
    assert claims.roles == {"admins", "ops"}
    assert claims.scopes == {"aws.cognito.signin.user.admin", "openid"}
    assert claims.client_id == CLIENT


def test_id_token_accepted_by_id_verifier(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "id")

    claims = verifier.verify(sign_as(cognito_user_pool, id_claims()))

    assert claims.audience == (CLIENT,)
    assert claims["token_use"] == "id"


def test_ver37_id_token_sent_to_access_verifier_is_rejected(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access")

    rejected(verifier, sign_as(cognito_user_pool, id_claims()), Reason.WRONG_TYPE, "token_use")
    assert verifier.verify(sign_as(cognito_user_pool, access_claims())).subject


def test_ver37_access_token_sent_to_id_verifier_is_rejected(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "id")
    access = access_claims()
    assert "aud" not in access and access["client_id"] == CLIENT

    rejected(verifier, sign_as(cognito_user_pool, access), Reason.MISSING_CLAIM, "aud")
    rejected(verifier, sign_as(cognito_user_pool, {**access, "aud": CLIENT}), Reason.WRONG_TYPE, "token_use")
    assert verifier.verify(sign_as(cognito_user_pool, id_claims())).subject


@pytest.mark.parametrize("token_use", ["access", "id"])
def test_ver37_token_use_missing_is_rejected(cognito_user_pool: LocalIssuer, token_use: str) -> None:
    verifier = verifier_for(cognito_user_pool, token_use)
    genuine = access_claims() if token_use == "access" else id_claims()

    rejected(verifier, sign_as(cognito_user_pool, {**genuine, "token_use": None}), Reason.MISSING_CLAIM)
    stripped = {k: v for k, v in genuine.items() if k != "token_use"}
    rejected(verifier, sign_as(cognito_user_pool, stripped), Reason.MISSING_CLAIM, "token_use")
    assert verifier.verify(sign_as(cognito_user_pool, genuine)).subject


@pytest.mark.parametrize("token_use", ["ACCESS", "Access", "access ", "refresh", 1, ["access"]])
def test_ver37_token_use_must_match_exactly(cognito_user_pool: LocalIssuer, token_use: object) -> None:
    verifier = verifier_for(cognito_user_pool, "access")

    rejected(verifier, sign_as(cognito_user_pool, access_claims(token_use=token_use)), Reason.WRONG_TYPE)
    assert verifier.verify(sign_as(cognito_user_pool, access_claims())).subject


def test_ver37_access_token_client_id_not_on_allow_list_is_rejected(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access", ["client-a", CLIENT])

    rejected(
        verifier,
        sign_as(cognito_user_pool, access_claims(client_id="other")),
        Reason.WRONG_CLIENT,
        "client_id",
    )
    rejected(
        verifier, sign_as(cognito_user_pool, access_claims(client_id=None)), Reason.MISSING_CLAIM, "client_id"
    )
    rejected(verifier, sign_as(cognito_user_pool, access_claims(client_id=[CLIENT])), Reason.INVALID_CLAIM)
    assert verifier.verify(sign_as(cognito_user_pool, access_claims())).client_id == CLIENT
    assert verifier.verify(sign_as(cognito_user_pool, access_claims(client_id="client-a"))).subject


def test_ver37_access_token_aud_is_not_what_is_checked(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access")

    forged = access_claims(client_id="other", aud=CLIENT)

    rejected(verifier, sign_as(cognito_user_pool, forged), Reason.WRONG_CLIENT)


def test_ver37_id_token_aud_not_on_allow_list_is_rejected(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "id", ["client-a", CLIENT])

    rejected(verifier, sign_as(cognito_user_pool, id_claims(aud="other")), Reason.WRONG_AUDIENCE)
    rejected(verifier, sign_as(cognito_user_pool, id_claims(aud=None)), Reason.MISSING_CLAIM)
    assert verifier.verify(sign_as(cognito_user_pool, id_claims(aud="client-a"))).subject


def test_client_id_any_waives_only_the_client_check(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access", ANY)

    assert verifier.verify(sign_as(cognito_user_pool, access_claims(client_id="any-app"))).subject
    rejected(verifier, sign_as(cognito_user_pool, id_claims()), Reason.WRONG_TYPE)


@pytest.mark.parametrize(
    "iss",
    [
        ISSUER + "/",
        ISSUER.replace("https://", "http://"),
        ISSUER.replace("eu-west-1_", "eu-west-1_x"),
        ISSUER.replace("cognito-idp.eu-west-1", "cognito-idp.us-east-1"),
        ISSUER.upper(),
        None,
    ],
)
def test_ver45_wrong_issuer_spelling_is_rejected(cognito_user_pool: LocalIssuer, iss: str | None) -> None:
    verifier = verifier_for(cognito_user_pool, "access")

    reason = Reason.MISSING_CLAIM if iss is None else Reason.WRONG_ISSUER
    rejected(verifier, sign_as(cognito_user_pool, access_claims(iss=iss)), reason)
    assert verifier.verify(sign_as(cognito_user_pool, access_claims())).issuer == ISSUER


def test_expired_token_is_rejected(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access")

    old = access_claims(iat=int(NOW) - 7200, exp=int(NOW) - 61, auth_time=int(NOW) - 7200)

    rejected(verifier, sign_as(cognito_user_pool, old), Reason.EXPIRED)
    assert verifier.verify(sign_as(cognito_user_pool, access_claims(exp=int(NOW) - 59))).subject


def test_ver46_key_of_another_pool_is_rejected(cognito_user_pool: LocalIssuer) -> None:
    verifier = verifier_for(cognito_user_pool, "access")
    other_pool = LocalIssuer(url="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")

    rejected(verifier, sign_as(other_pool, access_claims()), Reason.UNKNOWN_KEY)
    genuine_kid = cognito_user_pool.key.kid
    rejected(verifier, sign_as(other_pool, access_claims(), kid=genuine_kid), Reason.BAD_SIGNATURE)
    assert verifier.verify(sign_as(cognito_user_pool, access_claims())).subject


def test_only_rs256_is_allowed(cognito_user_pool: LocalIssuer) -> None:
    ec_pool = LocalIssuer("ES256", url=ISSUER)
    verifier = cognito(
        region=REGION,
        user_pool_id=POOL_ID,
        token_use="access",
        client_id=CLIENT,
        keys=jwks_keys(ec_pool),
        clock=clock,
    )

    rejected(verifier, sign_as(ec_pool, access_claims()), Reason.ALGORITHM_NOT_ALLOWED)


@pytest.mark.parametrize(
    ("region", "user_pool_id"),
    [
        ("eu-west-1", "us-east-1_AbC123"),
        ("eu-west-1", "eu-west-1AbC123"),
        ("eu-west-1", "eu-west-1_"),
        ("eu-west-1", "eu-west-1_Ab/C"),
        ("eu-west-1", "eu-west-1_AbC123/../x"),
        ("EU-WEST-1", "EU-WEST-1_AbC123"),
        ("eu-west", "eu-west_AbC123"),
        ("", "_AbC123"),
    ],
)
def test_user_pool_id_is_validated_at_construction(region: str, user_pool_id: str) -> None:
    with pytest.raises(ConfigurationError):
        cognito(region=region, user_pool_id=user_pool_id, token_use="access", client_id=CLIENT)


@pytest.mark.parametrize(
    ("token_use", "client_id"),
    [("refresh", CLIENT), ("", CLIENT), ("access", ""), ("id", []), ("access", [CLIENT, ""])],
)
def test_token_use_and_client_id_are_validated_at_construction(token_use: str, client_id: Any) -> None:
    with pytest.raises(ConfigurationError):
        cognito(region=REGION, user_pool_id=POOL_ID, token_use=token_use, client_id=client_id)  # type: ignore[arg-type]
