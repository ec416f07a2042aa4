"""panva's openid-client as the relying party: the whole code flow, as another implementation sees it.

openid-client checks state, PKCE, the RFC 9207 ``iss`` parameter, the nonce, the ID token's claims
and (non-repudiation checks on) its signature; a failed check makes the Node script exit non-zero.
"""

from __future__ import annotations

from typing import Any

from .providers import OP


def test_discovery_code_flow_and_id_token_validate_with_openid_client(
    op: OP, rp_result: dict[str, Any]
) -> None:
    claims = rp_result["id_token_claims"]
    assert rp_result["issuer"] == op.issuer
    assert claims["iss"] == op.issuer
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert op.public_client_id in audience
    assert isinstance(claims["sub"], str) and claims["sub"]
    assert isinstance(claims["nonce"], str) and claims["nonce"]
    assert claims["exp"] > claims["iat"]


def test_userinfo_with_openid_client_names_the_id_token_subject(rp_result: dict[str, Any]) -> None:
    assert rp_result["userinfo"]["sub"] == rp_result["id_token_claims"]["sub"]


def test_refresh_with_openid_client_rotates_and_keeps_the_subject(rp_result: dict[str, Any]) -> None:
    assert rp_result["refresh_token_rotated"] is True
    assert isinstance(rp_result["refreshed_access_token"], str)
    assert rp_result["refreshed_access_token"] != rp_result["access_token"]
    refreshed_claims = rp_result["refreshed_id_token_claims"]
    if refreshed_claims is not None:
        assert refreshed_claims["sub"] == rp_result["id_token_claims"]["sub"]
        assert refreshed_claims["iss"] == rp_result["id_token_claims"]["iss"]


def test_revoked_refresh_token_is_refused_to_openid_client(rp_result: dict[str, Any]) -> None:
    assert rp_result["refresh_after_revocation"] == "invalid_grant"
