"""Discovery (OpenID Connect Discovery, RFC 8414) and the JWKS."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tessera.issue.assurance import ACR_VALUES_SUPPORTED
from tessera.issue.endpoints.token import GRANT_TYPES
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider

__all__ = ["discovery", "jwks", "metadata_document"]

OPEN_CORS = {"Access-Control-Allow-Origin": "*"}


def metadata_document(provider: Provider) -> dict[str, Any]:
    """The provider metadata; every endpoint hangs off the exact issuer (AS-55)."""
    issuer = provider.settings.issuer
    algs = provider.keys.algorithms()
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "end_session_endpoint": f"{issuer}/logout",
        "scopes_supported": [
            "openid",
            "profile",
            "email",
            "offline_access",
            *(scope for api in provider.settings.apis for scope in sorted(api.scopes)),
        ],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:3],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "email",
            "email_verified",
            "name",
        ],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": list(ACR_VALUES_SUPPORTED),
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }


async def discovery(request: Request) -> Response:
    """GET ``/.well-known/openid-configuration`` and ``/.well-known/oauth-authorization-server``."""
    provider: Provider = request.app.state.provider
    document = await off_loop(provider, metadata_document, provider)
    return JSONResponse(document, headers={**OPEN_CORS, "Cache-Control": "max-age=300"})


async def jwks(request: Request) -> Response:
    """GET ``/jwks``: previous, current and next public keys."""
    provider: Provider = request.app.state.provider
    document = await off_loop(provider, provider.keys.jwks)
    return JSONResponse(document, headers={**OPEN_CORS, "Cache-Control": "max-age=300"})
