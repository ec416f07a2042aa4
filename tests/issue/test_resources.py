"""An access token's ``aud`` is the API whose scopes were asked; RFC 8707 ``resource`` picks one.

Two APIs (``orders-api``, ``billing-api``) beside the provider's own audience (the issuer, for
``demo:read`` and userinfo). Each rule is shown refused and, next to it, the genuine request
accepted with the audience and scope it should carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tessera.errors import ConfigurationError, Reason, TokenError
from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.resources import ApiResource
from tessera.issue.settings import ProviderSettings
from tessera.store import ClientRecord
from tessera.testing.idp import ISSUER, SPA_REDIRECT, SVC_SECRET, ProviderHarness, query_of
from tessera.verify import Verifier

APIS = (
    ApiResource("orders-api", frozenset({"orders:read", "orders:write"})),
    ApiResource("billing-api", frozenset({"billing:read"})),
)
MULTI_SECRET = "multi-secret-" + "m" * 40
APP_SCOPES = ("openid", "email", "offline_access", "orders:read", "orders:write", "billing:read", "demo:read")


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    harness = ProviderHarness(tmp_path, apis=APIS)
    register_client(
        harness.store,
        ClientRecord(
            client_id="multi",
            auth_methods=("client_secret_basic",),
            secret_hash=hash_client_secret(MULTI_SECRET),
            grant_types=("client_credentials",),
            scopes=("orders:read", "billing:read", "demo:read"),
        ),
    )
    register_client(
        harness.store, ClientRecord(client_id="app", redirect_uris=(SPA_REDIRECT,), scopes=APP_SCOPES)
    )
    yield harness
    harness.close()


def _verified(idp: ProviderHarness, token: str, audience: str) -> dict[str, Any]:
    """The claims of ``token`` as a resource server for ``audience`` verifies them."""
    verifier = Verifier(
        issuer=ISSUER, audience=audience, token_type="at+jwt", keys=idp.provider.keys, clock=idp.clock
    )
    return dict(verifier.verify(token).raw)


def _machine(idp: ProviderHarness, **form: str) -> httpx.Response:
    return idp.token({"grant_type": "client_credentials", **form}, auth=("multi", MULTI_SECRET))


def _error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    error: str = response.json()["error"]
    return error


def test_client_credentials_audience_follows_the_scope(idp: ProviderHarness) -> None:
    orders = _machine(idp, scope="orders:read").json()
    assert _verified(idp, orders["access_token"], "orders-api")["scope"] == "orders:read"
    billing = _machine(idp, scope="billing:read").json()
    assert _verified(idp, billing["access_token"], "billing-api")["aud"] == "billing-api"
    with pytest.raises(TokenError) as refused:
        _verified(idp, orders["access_token"], "billing-api")
    assert refused.value.reason is Reason.WRONG_AUDIENCE


def test_scopes_of_two_apis_need_a_resource(idp: ProviderHarness) -> None:
    assert _error(_machine(idp, scope="orders:read billing:read")) == "invalid_scope"
    assert _error(_machine(idp)) == "invalid_scope"  # the client's scopes span three audiences
    chosen = _machine(idp, scope="orders:read billing:read", resource="billing-api").json()
    assert chosen["scope"] == "billing:read"
    assert _verified(idp, chosen["access_token"], "billing-api")["scope"] == "billing:read"
    everything = _machine(idp, resource="orders-api").json()
    assert _verified(idp, everything["access_token"], "orders-api")["scope"] == "orders:read"


def test_an_api_scope_and_a_provider_scope_are_two_audiences(idp: ProviderHarness) -> None:
    assert _error(_machine(idp, scope="orders:read demo:read")) == "invalid_scope"
    demo = _machine(idp, scope="demo:read").json()["access_token"]
    assert _verified(idp, demo, ISSUER)["aud"] == ISSUER  # today's audience
    assert idp.hello(demo).status_code == 200


def test_an_unknown_resource_is_invalid_target(idp: ProviderHarness) -> None:
    assert _error(_machine(idp, scope="orders:read", resource="payroll-api")) == "invalid_target"
    assert _error(_machine(idp, scope="orders:read", resource=ISSUER)) == "invalid_target"
    assert _error(_machine(idp, scope="orders:read", resource="billing-api")) == "invalid_scope"


def test_a_client_without_apis_keeps_todays_audience(idp: ProviderHarness) -> None:
    response = idp.token({"grant_type": "client_credentials"}, auth=("svc", SVC_SECRET))
    claims = _verified(idp, response.json()["access_token"], ISSUER)
    assert claims["aud"] == ISSUER and claims["scope"] == "demo:read demo:write"


def test_openid_scopes_only_keep_todays_audience(idp: ProviderHarness) -> None:
    body = idp.tokens("app", scope="openid email", redirect_uri=SPA_REDIRECT)
    assert _verified(idp, body["access_token"], ISSUER)["aud"] == ISSUER
    assert (
        idp.new_browser()
        .get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
        .json()["email"]
        == "alice@example.com"
    )


def test_a_user_token_for_an_api(idp: ProviderHarness) -> None:
    body = idp.tokens("app", scope="openid email orders:read", redirect_uri=SPA_REDIRECT)
    claims = _verified(idp, body["access_token"], "orders-api")
    assert claims["scope"] == "openid email orders:read" and claims["roles"] == ["admin"]
    assert idp.hello(body["access_token"]).status_code == 401  # not a token for the provider's demo API
    userinfo = idp.new_browser().get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.status_code == 200  # the provider still knows its own token (openid scope)


def _authorize_error(idp: ProviderHarness, **overrides: str) -> str:
    params = idp.authorize_params("app", redirect_uri=SPA_REDIRECT, **overrides)
    response = idp.authorize(params)
    assert response.status_code == 302, response.text
    return query_of(response.headers["location"])["error"]


def test_authorize_refuses_two_apis_and_unknown_resources(idp: ProviderHarness) -> None:
    assert _authorize_error(idp, scope="openid orders:read billing:read") == "invalid_scope"
    assert _authorize_error(idp, scope="openid orders:read", resource="payroll-api") == "invalid_target"
    good = idp.authorize(
        idp.authorize_params(
            "app", redirect_uri=SPA_REDIRECT, scope="openid orders:read billing:read", resource="orders-api"
        )
    )
    assert good.status_code == 303 and "/signin" in good.headers["location"]


def test_a_resource_at_authorize_binds_the_grant(idp: ProviderHarness) -> None:
    scope = "openid offline_access orders:read billing:read"
    code, verifier, _ = idp.code("app", scope=scope, resource="billing-api", redirect_uri=SPA_REDIRECT)
    other = idp.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "app",
            "redirect_uri": SPA_REDIRECT,
            "code_verifier": verifier,
            "resource": "orders-api",
        }
    )
    assert _error(other) == "invalid_target"
    code, verifier, _ = idp.code("app", scope=scope, resource="billing-api", redirect_uri=SPA_REDIRECT)
    body = idp.exchange(code, verifier, "app", SPA_REDIRECT).json()
    assert body["scope"] == "openid offline_access billing:read"
    assert _verified(idp, body["access_token"], "billing-api")["aud"] == "billing-api"
    assert _error(idp.refresh(body["refresh_token"], "app", resource="orders-api")) == "invalid_target"
    refreshed = idp.refresh(body["refresh_token"], "app").json()
    assert (
        _verified(idp, refreshed["access_token"], "billing-api")["scope"]
        == "openid offline_access billing:read"
    )


def test_a_refresh_picks_among_the_granted_apis(idp: ProviderHarness) -> None:
    body = idp.tokens("app", scope="openid offline_access orders:read", redirect_uri=SPA_REDIRECT)
    assert _error(idp.refresh(body["refresh_token"], "app", resource="billing-api")) == "invalid_scope"
    assert _error(idp.refresh(body["refresh_token"], "app", resource="nope")) == "invalid_target"
    again = idp.refresh(body["refresh_token"], "app", resource="orders-api").json()
    assert _verified(idp, again["access_token"], "orders-api")["scope"] == "openid offline_access orders:read"


def test_discovery_lists_the_apis_scopes(idp: ProviderHarness) -> None:
    document = idp.new_browser().get("/.well-known/openid-configuration").json()
    assert {"orders:read", "orders:write", "billing:read", "openid"} <= set(document["scopes_supported"])


@pytest.mark.parametrize(
    "apis",
    [
        (ApiResource("a", frozenset({"x"})), ApiResource("a", frozenset({"y"}))),
        (ApiResource("a", frozenset()), ApiResource("a", frozenset())),
        (ApiResource("a", frozenset({"x"})), ApiResource("b", frozenset({"x"}))),
        (ApiResource(ISSUER, frozenset({"x"})),),
        (ApiResource("a", frozenset({"openid"})),),
    ],
)
def test_settings_refuse_ambiguous_apis(apis: tuple[ApiResource, ...]) -> None:
    with pytest.raises(ConfigurationError):
        ProviderSettings(issuer=ISSUER, apis=apis)
    assert ProviderSettings(issuer=ISSUER, apis=APIS).accepted_audiences == (
        ISSUER,
        "orders-api",
        "billing-api",
    )
