"""WEB-14: CORS by endpoint, from the origin of a registered browser app. Discovery and JWKS are
open to all; token, userinfo and revocation answer that app; the pages, authorize and the
cookie-authenticated routes answer no origin at all, however registered."""

from __future__ import annotations

from typing import Any

from tessera.testing.idp import ProviderHarness

SPA_ORIGIN = "http://127.0.0.1:5173"  # the origin of the harness's registered public client


def _allowed_origin(idp: ProviderHarness, method: str, path: str) -> Any:
    headers = {"Origin": SPA_ORIGIN}
    if method == "OPTIONS":
        headers |= {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    return idp.new_browser().request(method, path, headers=headers).headers.get("access-control-allow-origin")


def test_web14_each_endpoint_answers_the_origins_it_should(idp: ProviderHarness) -> None:
    for path in ("/.well-known/openid-configuration", "/jwks"):
        assert _allowed_origin(idp, "GET", path) == "*", path
    for path in ("/token", "/userinfo", "/revoke"):
        assert _allowed_origin(idp, "OPTIONS", path) == SPA_ORIGIN, path
    closed = [
        ("GET", "/authorize"),
        ("OPTIONS", "/authorize"),
        ("GET", "/signin"),
        ("OPTIONS", "/signin"),
        ("OPTIONS", "/signin/code"),
        ("OPTIONS", "/signin/code/resend"),
        ("OPTIONS", "/signin/passkey/options"),
        ("OPTIONS", "/consent"),
        ("GET", "/account"),
        ("OPTIONS", "/account/passkeys/options"),
        ("OPTIONS", "/logout"),
        ("OPTIONS", "/introspect"),
    ]
    for method, path in closed:
        assert _allowed_origin(idp, method, path) is None, (method, path)
