"""Port of the OpenID conformance suite's OP "config" checks that apply to the code flow.

Each test is named after the suite's condition (``oidcc-discovery-endpoint-verification``,
``net.openid.conformance.condition.client.*``) it ports. Checks the suite only reports as INFO
or that belong to flows Tessera does not offer (implicit, hybrid, request objects, dynamic
registration) are left out; see docs/idp-support.md. A few stricter checks are marked
``profile``: the Tessera profile (issue 4) that the reference OP is configured to match.
"""

from __future__ import annotations

import re
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tessera.encoding import b64url_decode
from tessera.verify.keyset import parse_jwks

from .providers import OP

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
KNOWN_AUTH_METHODS = {
    "none",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
}
ASYMMETRIC_JWS = {
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def metadata(op: OP) -> dict[str, Any]:
    return op.discovery()


def _is_https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def test_get_dynamic_server_configuration_status_200_and_json_content_type(op: OP) -> None:
    response = httpx.get(f"{op.issuer}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    assert isinstance(response.json(), dict)


def test_check_disc_endpoint_issuer_equals_the_discovery_url_prefix(op: OP, metadata: dict[str, Any]) -> None:
    assert metadata["issuer"] == op.issuer
    assert not metadata["issuer"].endswith("/")


def test_check_disc_endpoint_issuer_is_valid_url(metadata: dict[str, Any]) -> None:
    parts = urlsplit(metadata["issuer"])
    assert _is_https_or_loopback(metadata["issuer"])
    assert parts.query == "" and parts.fragment == ""
    assert not _is_https_or_loopback("http://id.example.com")
    assert not _is_https_or_loopback("http://127.0.0.1.example.com")


@pytest.mark.parametrize(
    "name", ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]
)
def test_check_disc_endpoint_required_endpoint_present(metadata: dict[str, Any], name: str) -> None:
    assert isinstance(metadata.get(name), str)
    assert _is_https_or_loopback(metadata[name])


def test_check_disc_endpoint_all_endpoints_are_https(metadata: dict[str, Any]) -> None:
    urls = {name: value for name, value in metadata.items() if name.endswith(("_endpoint", "_uri"))}
    assert "token_endpoint" in urls
    not_https = {name: url for name, url in urls.items() if not _is_https_or_loopback(url)}
    assert not_https == {}


def test_oidcc_check_disc_endpoint_response_types_supported(metadata: dict[str, Any]) -> None:
    assert "code" in metadata["response_types_supported"]


def test_profile_response_types_supported_is_code_only(metadata: dict[str, Any]) -> None:
    assert metadata["response_types_supported"] == ["code"]


def test_oidcc_check_disc_endpoint_grant_types_supported(metadata: dict[str, Any]) -> None:
    # Absent means ["authorization_code", "implicit"] (RFC 8414 §2), which a code-only OP must not imply.
    grants = metadata["grant_types_supported"]
    assert "authorization_code" in grants
    assert "implicit" not in grants
    assert "password" not in grants


def test_check_disc_endpoint_subject_types_supported(metadata: dict[str, Any]) -> None:
    subject_types = metadata["subject_types_supported"]
    assert subject_types
    assert set(subject_types) <= {"public", "pairwise"}


def test_oidcc_check_disc_endpoint_id_token_signing_alg_values_supported(metadata: dict[str, Any]) -> None:
    algs = metadata["id_token_signing_alg_values_supported"]
    assert "RS256" in algs
    assert "none" not in algs
    assert set(algs) <= ASYMMETRIC_JWS


def test_oidcc_check_disc_endpoint_optional_alg_values_are_arrays_without_none(
    metadata: dict[str, Any],
) -> None:
    optional = [
        "userinfo_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
    ]
    present = {name: metadata[name] for name in optional if name in metadata}
    assert present, "no *_signing_alg_values_supported list besides the ID token's"
    for name, algs in present.items():
        assert isinstance(algs, list) and algs, name
        assert "none" not in algs, name


def test_check_disc_endpoint_scopes_supported_contains_openid_and_is_valid_syntax(
    metadata: dict[str, Any],
) -> None:
    scopes = metadata["scopes_supported"]
    assert "openid" in scopes
    assert all(SCOPE_TOKEN.fullmatch(scope) for scope in scopes)
    assert SCOPE_TOKEN.fullmatch('bad"scope') is None


def test_oidcc_check_disc_endpoint_claims_supported_includes_sub(metadata: dict[str, Any]) -> None:
    assert "sub" in metadata["claims_supported"]


def test_check_disc_endpoint_parameter_flags_are_booleans(metadata: dict[str, Any]) -> None:
    flags = [
        "claims_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "require_request_uri_registration",
        "authorization_response_iss_parameter_supported",
    ]
    present = {name: metadata[name] for name in flags if name in metadata}
    assert present, "the provider advertises none of the boolean discovery parameters"
    assert all(isinstance(value, bool) for value in present.values())


def test_ensure_server_configuration_code_challenge_methods_supported_is_an_array(
    metadata: dict[str, Any],
) -> None:
    assert isinstance(metadata["code_challenge_methods_supported"], list)


def test_profile_code_challenge_methods_supported_is_s256_only(metadata: dict[str, Any]) -> None:
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_token_endpoint_auth_methods_supported_are_known(metadata: dict[str, Any]) -> None:
    methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    assert "client_secret_basic" in methods
    assert set(methods) <= KNOWN_AUTH_METHODS


def test_profile_advertises_rfc9207_iss_parameter_revocation_and_introspection(
    metadata: dict[str, Any],
) -> None:
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert _is_https_or_loopback(metadata["revocation_endpoint"])
    assert _is_https_or_loopback(metadata["introspection_endpoint"])


def test_fetch_server_keys_and_validate_server_jwks(op: OP) -> None:
    jwks = op.jwks()
    keys = jwks["keys"]
    assert isinstance(keys, list) and keys
    for key in keys:
        assert key["kty"] in {"RSA", "EC", "OKP"}
        assert key.get("use", "sig") == "sig"
        if key["kty"] == "RSA":
            n = int.from_bytes(b64url_decode(key["n"]))
            assert n.bit_length() >= 2048
    assert parse_jwks(jwks), "tessera.verify found no usable key in the published JWKS"


def test_check_for_key_id_in_server_jwks(op: OP) -> None:
    kids = [key.get("kid") for key in op.jwks()["keys"]]
    assert all(isinstance(kid, str) and kid for kid in kids)
    assert len(set(kids)) == len(kids)


def test_ensure_server_jwks_does_not_contain_private_or_symmetric_keys(op: OP) -> None:
    for key in op.jwks()["keys"]:
        assert key["kty"] != "oct"
        assert PRIVATE_MEMBERS.isdisjoint(key), f"private members published for kid {key.get('kid')}"
