"""Azure Functions: the decorator with real azure.functions HttpRequest/HttpResponse objects."""

from __future__ import annotations

import inspect
import json

import azure.functions as func
import pytest

from tessera import ConfigurationError
from tessera.protect import CORS, Principal
from tessera.protect.azure_functions import authorize

from .conftest import API, TOKEN_CASES, auth_headers


def http_request(kind: str, *, method: str = "GET", body: bytes = b"", **headers: str) -> func.HttpRequest:
    headers.update(auth_headers(kind))
    return func.HttpRequest(
        method,
        "https://orders.azurewebsites.net/api/orders?size=large",
        headers=headers,
        params={"size": "large"},
        body=body,
    )


@authorize(API.verifier, scopes=["orders:write"], cors=CORS(allow_origins=["https://app.example"]))
def orders(req: func.HttpRequest, principal: Principal) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"sub": principal.subject, "size": req.params.get("size")}), status_code=200
    )


@authorize(API.verifier, scopes=["orders:write"])
async def async_orders(req: func.HttpRequest, principal: Principal) -> func.HttpResponse:
    return func.HttpResponse(principal.principal_id)


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_azure_function_statuses_and_challenges(kind: str, status: int, challenge: str | None) -> None:
    response = orders(http_request(kind))

    assert isinstance(response, func.HttpResponse)
    assert response.status_code == status
    assert response.headers.get("WWW-Authenticate") == challenge
    if status == 200:
        assert json.loads(response.get_body()) == {"sub": "alice", "size": "large"}
    else:
        assert response.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
async def test_async_azure_function(kind: str, status: int, challenge: str | None) -> None:
    response = await async_orders(req=http_request(kind))

    assert response.status_code == status
    assert response.headers.get("WWW-Authenticate") == challenge


def test_azure_binding_signature_hides_the_principal() -> None:
    assert list(inspect.signature(orders).parameters) == ["req"]
    assert list(inspect.signature(async_orders).parameters) == ["req"]


def test_azure_cors_and_form_body_checks() -> None:
    ok = orders(http_request("good", Origin="https://app.example"))
    denied = orders(http_request("missing", Origin="https://app.example"))
    token = API.token()
    twice = orders(
        http_request(
            "good",
            method="POST",
            body=f"access_token={token}".encode(),
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )
    )

    assert ok.headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert denied.headers.get("Access-Control-Allow-Origin") == "https://app.example"
    assert twice.status_code == 400


def test_azure_handler_without_principal_is_refused() -> None:
    def plain(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("")

    with pytest.raises(ConfigurationError):
        authorize(API.verifier)(plain)


def test_ver52_azure_query_token_next_to_the_header_is_invalid_request() -> None:
    token = API.token()
    url = f"https://orders.azurewebsites.net/api/orders?access_token={token}"
    both = func.HttpRequest(
        "GET", url, headers=auth_headers("good"), params={"access_token": token}, body=b""
    )
    query_only = func.HttpRequest("GET", url, headers={}, params={"access_token": token}, body=b"")

    assert orders(both).status_code == 400
    assert orders(query_only).status_code == 401
    assert orders(http_request("good")).status_code == 200


@pytest.mark.parametrize("url", ["https://[orders/api/orders", "https://a]b/api/orders", "http://[::1/x"])
def test_azure_unparseable_url_is_a_clean_400(url: str) -> None:
    request = func.HttpRequest("GET", url, headers=auth_headers("good"), params={}, body=b"")

    response = orders(request)

    assert response.status_code == 400
    assert json.loads(response.get_body())["error"] == "invalid_request"
    assert orders(http_request("good")).status_code == 200
