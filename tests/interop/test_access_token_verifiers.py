"""The provider's access tokens verified by three independent verifiers: PyJWT, panva's jose and Tessera.

Each verifier must accept the genuine RFC 9068 tokens (one from a refresh, one from
client_credentials) and reject a tampered payload, a token signed by a foreign key under the
provider's ``kid``, and a token presented to the wrong audience.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from tessera import TokenError, Verifier
from tessera.encoding import b64url_decode, b64url_encode
from tessera.errors import Reason
from tessera.keys import SigningKey

from .providers import OP, run_node_json

RFC9068_CLAIMS = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class Tokens:
    """Genuine access tokens and forgeries derived from them."""

    user: str
    service: str
    tampered: str
    foreign: str


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, payload, _ = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(payload))


def _tamper(token: str) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["sub"] = "mallory"
    return f"{head}.{b64url_encode(json.dumps(claims).encode())}.{signature}"


def _foreign(token: str) -> str:
    header, claims = _parts(token)
    impostor = SigningKey.generate("RS256")
    return impostor.sign_jwt(claims, typ=header["typ"], kid=header["kid"])


@pytest.fixture(scope="module")
def tokens(op: OP, rp_result: dict[str, Any]) -> Tokens:
    user = rp_result["refreshed_access_token"]
    return Tokens(
        user=user, service=op.client_credentials_token(), tampered=_tamper(user), foreign=_foreign(user)
    )


def test_access_tokens_follow_rfc9068(op: OP, tokens: Tokens) -> None:
    for token, client_id in ((tokens.user, op.public_client_id), (tokens.service, op.service_client_id)):
        header, claims = _parts(token)
        assert header["typ"].lower() in {"at+jwt", "application/at+jwt"}
        assert header["alg"] in ALGORITHMS
        assert set(RFC9068_CLAIMS) <= claims.keys()
        assert claims["client_id"] == client_id
        assert claims["iss"] == op.issuer


def _pyjwt_decode(op: OP, token: str, audience: str) -> dict[str, Any]:
    keys = jwt.PyJWKSet.from_dict(op.jwks())
    header = jwt.get_unverified_header(token)
    key = keys[header["kid"]]
    if header.get("typ", "").lower() not in {"at+jwt", "application/at+jwt"}:
        raise jwt.InvalidTokenError("not an RFC 9068 access token")
    decoded: dict[str, Any] = jwt.decode(
        token,
        key=key,
        algorithms=ALGORITHMS,
        audience=audience,
        issuer=op.issuer,
        options={"require": RFC9068_CLAIMS},
    )
    return decoded


def test_pyjwt_accepts_genuine_access_tokens_and_rejects_forgeries(op: OP, tokens: Tokens) -> None:
    assert _pyjwt_decode(op, tokens.user, op.audience)["client_id"] == op.public_client_id
    assert _pyjwt_decode(op, tokens.service, op.audience)["client_id"] == op.service_client_id
    for forged in (tokens.tampered, tokens.foreign):
        with pytest.raises(jwt.InvalidSignatureError):
            _pyjwt_decode(op, forged, op.audience)
    with pytest.raises(jwt.InvalidAudienceError):
        _pyjwt_decode(op, tokens.user, "urn:someone-else")


def test_jose_accepts_genuine_access_tokens_and_rejects_forgeries(op: OP, tokens: Tokens) -> None:
    jwks_uri = op.discovery()["jwks_uri"]
    batch = [tokens.user, tokens.service, tokens.tampered, tokens.foreign]
    results = run_node_json("verify_jose.mjs", jwks_uri, op.issuer, op.audience, stdin=json.dumps(batch))
    user, service, tampered, foreign = results
    assert user["ok"] and user["payload"]["client_id"] == op.public_client_id
    assert service["ok"] and service["payload"]["client_id"] == op.service_client_id
    assert tampered == {"ok": False, "code": "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"}
    assert foreign == {"ok": False, "code": "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"}

    [elsewhere] = run_node_json(
        "verify_jose.mjs", jwks_uri, op.issuer, "urn:someone-else", stdin=json.dumps([tokens.user])
    )
    assert elsewhere == {"ok": False, "code": "ERR_JWT_CLAIM_VALIDATION_FAILED"}


def test_tessera_verify_accepts_genuine_access_tokens_and_rejects_forgeries(op: OP, tokens: Tokens) -> None:
    verifier = Verifier(issuer=op.issuer, audience=op.audience, token_type="at+jwt", jwks=op.jwks())

    user = verifier.verify(tokens.user)
    service = verifier.verify(tokens.service)

    assert user.client_id == op.public_client_id
    assert user.subject == _parts(tokens.user)[1]["sub"]
    assert "demo:read" in user.scopes
    assert service.client_id == op.service_client_id
    assert "demo:read" in service.scopes
    for forged in (tokens.tampered, tokens.foreign):
        with pytest.raises(TokenError) as caught:
            verifier.verify(forged)
        assert caught.value.reason is Reason.BAD_SIGNATURE
    elsewhere = Verifier(issuer=op.issuer, audience="urn:someone-else", token_type="at+jwt", jwks=op.jwks())
    with pytest.raises(TokenError) as caught:
        elsewhere.verify(tokens.user)
    assert caught.value.reason is Reason.WRONG_AUDIENCE
