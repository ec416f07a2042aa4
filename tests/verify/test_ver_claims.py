"""Catalogue §1.6 and §1.7: token type and claims (VER-36, VER-38..VER-50, VER-63, VER-64)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from tessera import ANY, ConfigurationError, MultiIssuerVerifier, TokenError, Verifier
from tessera.errors import Reason
from tessera.testing import LocalIssuer
from tessera.testing.forge import claims_at

from .conftest import NOW, MakeVerifier


def _reason(verifier: Verifier | MultiIssuerVerifier, token: str) -> Reason:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    return caught.value.reason


def _token(issuer: LocalIssuer, typ: Any = "at+jwt", **overrides: Any) -> str:
    return issuer.mint(claims_at(issuer.issuer, NOW, **overrides), typ=typ)


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT", "Application/AT+JWT"])
def test_ver36_access_token_media_type_spellings_are_accepted(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, typ: str
) -> None:
    assert make_verifier(rsa_issuer).verify(_token(rsa_issuer, typ=typ)).token_type == typ


@pytest.mark.parametrize(
    "typ", ["JWT", None, "id_token+jwt", "logout+jwt", "magic-link+jwt", "client-assertion+jwt", "at+jwt2"]
)
def test_ver36_ver38_other_token_types_are_not_access_tokens(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, typ: str | None
) -> None:
    verifier = make_verifier(rsa_issuer)
    id_token_shape = {"aud": "client-1", "nonce": "n-1"}
    assert _reason(verifier, _token(rsa_issuer, typ=typ, **id_token_shape)) is Reason.WRONG_TYPE
    assert verifier.verify(_token(rsa_issuer)).subject == "user-123"


@pytest.mark.parametrize(("offset", "accepted"), [(-59, True), (-61, False), (-60, False), (1, True)])
def test_ver39_exp_at_the_leeway_boundary(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, offset: int, accepted: bool
) -> None:
    verifier = make_verifier(rsa_issuer)
    token = _token(rsa_issuer, iat=NOW - 600, exp=NOW + offset)
    if accepted:
        assert verifier.verify(token).expires_at == NOW + offset
    else:
        assert _reason(verifier, token) is Reason.EXPIRED


@pytest.mark.parametrize("exp", ["9999999999", True, [], {}, -1, 2**63, 1e308])
def test_ver40_exp_of_the_wrong_type_or_range_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, exp: object
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _reason(verifier, _token(rsa_issuer, exp=exp)) is Reason.INVALID_CLAIM
    assert _reason(
        verifier, rsa_issuer.mint({**claims_at(rsa_issuer.issuer, NOW), "exp": None}, typ="at+jwt")
    ) in {Reason.INVALID_CLAIM}
    assert verifier.verify(_token(rsa_issuer, exp=NOW + 300.5)).expires_at == NOW + 300.5


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "client_id", "jti"])
def test_ver41_access_tokens_missing_a_required_claim_are_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, claim: str
) -> None:
    verifier = make_verifier(rsa_issuer)
    with pytest.raises(TokenError) as caught:
        verifier.verify(_token(rsa_issuer, **{claim: None}))
    assert caught.value.reason is Reason.MISSING_CLAIM
    assert caught.value.claim == claim
    assert verifier.verify(_token(rsa_issuer)).client_id == "client-1"


def test_ver42_nbf_in_the_future(rsa_issuer: LocalIssuer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _reason(verifier, _token(rsa_issuer, nbf=NOW + 61)) is Reason.NOT_YET_VALID
    assert _reason(verifier, _token(rsa_issuer, nbf="soon")) is Reason.INVALID_CLAIM
    assert verifier.verify(_token(rsa_issuer, nbf=NOW + 30)).subject == "user-123"


def test_ver43_iat_in_the_future_or_older_than_the_maximum_age(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer, max_age_seconds=86400)
    assert _reason(verifier, _token(rsa_issuer, iat=NOW + 3600)) is Reason.ISSUED_IN_FUTURE
    assert _reason(verifier, _token(rsa_issuer, iat=NOW - 2 * 86400, exp=NOW + 60)) is Reason.TOO_OLD
    assert verifier.verify(_token(rsa_issuer, iat=NOW - 3600)).subject == "user-123"


@pytest.mark.parametrize("leeway", [-1, 301, 86400, 1.5])
def test_ver44_unsafe_leeway_is_refused_at_configuration(rsa_issuer: LocalIssuer, leeway: Any) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(
            issuer=rsa_issuer.issuer,
            audience="api",
            token_type="at+jwt",
            jwks=rsa_issuer.jwks(),
            leeway_seconds=leeway,
        )


@pytest.mark.parametrize("leeway", [0, 60, 300])
def test_ver44_sane_leeway_is_accepted_and_the_default_is_60(rsa_issuer: LocalIssuer, leeway: int) -> None:
    verifier = Verifier(
        issuer=rsa_issuer.issuer,
        audience="api",
        token_type="at+jwt",
        jwks=rsa_issuer.jwks(),
        leeway_seconds=leeway,
    )
    assert verifier.policy.leeway == leeway
    default = Verifier(issuer=rsa_issuer.issuer, audience="api", token_type="at+jwt", jwks=rsa_issuer.jwks())
    assert default.policy.leeway == 60


@pytest.mark.parametrize(
    "iss",
    [
        "https://issuer.test/",
        "https://ISSUER.test",
        "http://issuer.test",
        "https://issuer.test.evil",
        "https://issuer.test/../x",
        123,
    ],
)
def test_ver45_issuers_match_exactly(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, iss: object
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _reason(verifier, _token(rsa_issuer, iss=iss)) is Reason.WRONG_ISSUER
    assert _reason(verifier, _token(rsa_issuer, iss=None)) is Reason.MISSING_CLAIM
    assert verifier.verify(_token(rsa_issuer)).issuer == "https://issuer.test"


def test_ver46_a_key_of_issuer_a_never_verifies_a_token_claiming_issuer_b() -> None:
    issuer_a = LocalIssuer("RS256", url="https://a.example")
    issuer_b = LocalIssuer("RS256", url="https://b.example")
    both = MultiIssuerVerifier(
        Verifier(issuer=i.issuer, audience="api", token_type="at+jwt", jwks=i.jwks(), clock=lambda: NOW)
        for i in (issuer_a, issuer_b)
    )
    forged = issuer_a.key.sign_jwt(claims_at(issuer_b.issuer, NOW), typ="at+jwt")

    assert _reason(both, forged) is Reason.UNKNOWN_KEY
    assert _reason(both, issuer_a.mint(claims_at("https://unconfigured.example", NOW))) is Reason.WRONG_ISSUER
    assert both.verify(issuer_b.mint(claims_at(issuer_b.issuer, NOW))).issuer == "https://b.example"
    assert both.verify(issuer_a.mint(claims_at(issuer_a.issuer, NOW))).issuer == "https://a.example"


@pytest.mark.parametrize(
    ("aud", "reason"),
    [
        (None, Reason.MISSING_CLAIM),
        ("other-api", Reason.WRONG_AUDIENCE),
        ("", Reason.WRONG_AUDIENCE),
        ([], Reason.INVALID_CLAIM),
        ([1, 2], Reason.INVALID_CLAIM),
        ({"a": 1}, Reason.INVALID_CLAIM),
        ("api2", Reason.WRONG_AUDIENCE),
        (["api2", "ap"], Reason.WRONG_AUDIENCE),
    ],
)
def test_ver47_ver48_audience_rules(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, aud: object, reason: Reason
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _reason(verifier, _token(rsa_issuer, aud=aud)) is reason
    assert verifier.verify(_token(rsa_issuer, aud=["other", "api"])).audience == ("other", "api")
    url_verifier = make_verifier(rsa_issuer, audience="https://api.example.com")
    assert (
        _reason(url_verifier, _token(rsa_issuer, aud="https://api.example.com.evil")) is Reason.WRONG_AUDIENCE
    )
    assert url_verifier.verify(_token(rsa_issuer, aud="https://api.example.com")).subject == "user-123"


@pytest.mark.parametrize("sub", ["", 0, ["a"]])
def test_ver49_sub_empty_or_not_a_string_is_rejected(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, sub: object
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _reason(verifier, _token(rsa_issuer, sub=sub)) is Reason.INVALID_CLAIM
    assert _reason(verifier, _token(rsa_issuer, sub=None)) is Reason.MISSING_CLAIM
    assert verifier.verify(_token(rsa_issuer, sub="alice")).subject == "alice"


@pytest.mark.parametrize("scope", [["read"], "read  write", " read", "read ", "read read", 'read "q"', 7])
def test_ver50_malformed_scope_is_an_invalid_token(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier, scope: object
) -> None:
    verifier = make_verifier(rsa_issuer)
    assert _reason(verifier, _token(rsa_issuer, scope=scope)) is Reason.INVALID_CLAIM
    assert verifier.verify(_token(rsa_issuer, scope="read write")).scopes == {"read", "write"}
    assert verifier.verify(_token(rsa_issuer, scope=None, scp=["read", "admin"])).scopes == {"read", "admin"}


def test_roles_come_from_the_configured_claim(rsa_issuer: LocalIssuer, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(rsa_issuer, roles_claim="https://example.com/roles")
    claims = verifier.verify(_token(rsa_issuer, **{"https://example.com/roles": ["admin", "ops"]}))
    assert claims.roles == {"admin", "ops"}
    assert _reason(verifier, _token(rsa_issuer, **{"https://example.com/roles": [1]})) is Reason.INVALID_CLAIM


def test_ver63_unicode_claims_round_trip_and_issuers_are_not_normalised() -> None:
    nfc_issuer = "https://idp.example/caf\u00e9"
    nfd_issuer = unicodedata.normalize("NFD", nfc_issuer)
    issuer = LocalIssuer("RS256", url=nfc_issuer)
    verifier = Verifier(
        issuer=nfc_issuer, audience="api", token_type="at+jwt", jwks=issuer.jwks(), clock=lambda: NOW
    )
    name = "Zo\u0065\u0301 \U0001f600 \u202eevil"

    claims = verifier.verify(
        issuer.mint(claims_at(nfc_issuer, NOW, sub=unicodedata.normalize("NFD", "Zoé"), name=name))
    )
    assert claims["name"] == name
    assert claims.subject == unicodedata.normalize("NFD", "Zoé")
    assert _reason(verifier, issuer.mint(claims_at(nfd_issuer, NOW))) is Reason.WRONG_ISSUER


def test_ver64_prototype_pollution_keys_are_plain_data(
    rsa_issuer: LocalIssuer, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(rsa_issuer)
    hostile = {"__proto__": {"admin": True}, "constructor": {"x": 1}, "__class__": "Claims"}
    claims = verifier.verify(_token(rsa_issuer, **hostile))
    assert claims["__proto__"] == {"admin": True}
    assert type(claims).__name__ == "Claims"
    assert not hasattr(claims, "admin")
    with pytest.raises(TypeError):
        claims.raw["sub"] = "admin"  # type: ignore[index]


def test_explicit_waivers_are_required_for_audience_and_type(rsa_issuer: LocalIssuer) -> None:
    with pytest.raises(TypeError):
        Verifier(issuer=rsa_issuer.issuer, jwks=rsa_issuer.jwks())  # type: ignore[call-arg]
    waived = Verifier(
        issuer=rsa_issuer.issuer, audience=ANY, token_type=ANY, jwks=rsa_issuer.jwks(), clock=lambda: NOW
    )
    assert waived.verify(_token(rsa_issuer, typ="JWT", aud="anything")).subject == "user-123"
