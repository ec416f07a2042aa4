"""The platform-free core: token extraction, requirements and the RFC 6750 responses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tessera import ConfigurationError, TokenError
from tessera.errors import Reason
from tessera.protect import CORS, Guard, Headers, HttpRequest, HttpResponse, MultiMap, Principal, authorize

from .support import Api, bearer

API = Api()


def request(
    *headers: tuple[str, str], query: str = "", method: str = "GET", body: bytes = b""
) -> HttpRequest:
    pairs = [tuple(p.split("=", 1)) for p in query.split("&") if p]
    return HttpRequest(method, "/orders", Headers(headers), MultiMap((k, v) for k, v in pairs), body)


def rejection(guard: Guard, req: HttpRequest) -> TokenError:
    with pytest.raises(TokenError) as caught:
        guard.authenticate(req)
    return caught.value


def body_of(response: HttpResponse) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(response.body)
    return decoded


def test_genuine_bearer_token_yields_the_principal() -> None:
    principal = Guard(API.verifier).authenticate(request(("Authorization", bearer(API.token()))))

    assert principal.subject == "alice"
    assert principal.principal_id == "alice"
    assert principal.scopes == {"orders:read", "orders:write"}
    assert not principal.is_client


async def test_async_authentication_matches_the_sync_decision() -> None:
    guard = Guard(API.verifier, scopes=["orders:write"])

    principal = await guard.aauthenticate(request(("Authorization", bearer(API.token()))))
    assert principal.subject == "alice"
    with pytest.raises(TokenError) as caught:
        await guard.aauthenticate(request(("Authorization", bearer(API.read_only()))))
    assert caught.value.status == 403


def test_ver52_token_in_header_and_query_is_invalid_request() -> None:
    token = API.token()
    guard = Guard(API.verifier)

    error = rejection(guard, request(("Authorization", bearer(token)), query=f"access_token={token}"))

    assert (error.status, error.error) == (400, "invalid_request")
    assert guard.authenticate(request(("Authorization", bearer(token)), query="page=2")).subject == "alice"


def test_ver52_token_in_header_and_form_body_is_invalid_request() -> None:
    token = API.token()
    guard = Guard(API.verifier)
    form = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")

    error = rejection(
        guard,
        request(("Authorization", bearer(token)), form, method="POST", body=f"access_token={token}".encode()),
    )

    assert error.status == 400
    accepted = request(("Authorization", bearer(token)), form, method="POST", body=b"name=widget")
    assert guard.authenticate(accepted).subject == "alice"


def test_ver52_two_authorization_headers_are_invalid_request() -> None:
    token = API.token()

    error = rejection(
        Guard(API.verifier), request(("Authorization", bearer(token)), ("authorization", bearer(token)))
    )

    assert error.status == 400


def test_ver52_query_string_token_alone_is_never_accepted() -> None:
    error = rejection(Guard(API.verifier), request(query=f"access_token={API.token()}"))

    assert error.reason is Reason.MISSING_TOKEN
    assert error.status == 401


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_ver53_scheme_is_case_insensitive(scheme: str) -> None:
    principal = Guard(API.verifier).authenticate(request(("Authorization", f"{scheme} {API.token()}")))

    assert principal.subject == "alice"


@pytest.mark.parametrize(
    ("value", "status", "error"),
    [
        ("Bearer", 401, "invalid_token"),
        ("Bearer ", 401, "invalid_token"),
        ("Basic {t}", 401, ""),
        ("Bearer {t} extra", 401, "invalid_token"),
        ("Bearer {t},{t}", 401, "invalid_token"),
        ("", 400, "invalid_request"),
        (" Bearer {t}", 400, "invalid_request"),
        ("Bearer\u00a0{t}", 400, "invalid_request"),
        ("{t}", 401, ""),
    ],
)
def test_ver53_malformed_authorization_headers_are_rejected(value: str, status: int, error: str) -> None:
    token = API.token()
    guard = Guard(API.verifier)

    rejected = rejection(guard, request(("Authorization", value.replace("{t}", token))))

    assert (rejected.status, rejected.error) == (status, error)
    assert guard.authenticate(request(("Authorization", bearer(token)))).subject == "alice"


def test_ver54_every_invalid_token_gets_the_same_response() -> None:
    guard = Guard(API.verifier, realm="orders")
    token = API.token()
    bad_signature = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    responses = [
        guard.admit(request(("Authorization", bearer(t))))
        for t in (bad_signature, API.expired(), API.wrong_audience(), "garbage", API.forged())
    ]

    assert all(isinstance(r, HttpResponse) for r in responses)
    first = responses[0]
    assert isinstance(first, HttpResponse)
    for response in responses:
        assert isinstance(response, HttpResponse)
        assert response.status == 401
        assert response.header("WWW-Authenticate") == 'Bearer realm="orders", error="invalid_token"'
        assert response.body == first.body
        assert response.header("Cache-Control") == "no-store"
    assert body_of(first) == {"error": "invalid_token", "error_description": "the access token is invalid"}
    assert isinstance(guard.admit(request(("Authorization", bearer(token)))), Principal)


def test_ver54_missing_token_gets_a_challenge_without_error_code() -> None:
    response = Guard(API.verifier, realm="orders").admit(request())

    assert isinstance(response, HttpResponse)
    assert response.status == 401
    assert response.header("WWW-Authenticate") == 'Bearer realm="orders"'
    assert "error=" not in str(response.header("WWW-Authenticate"))


def test_ver54_error_bodies_carry_no_token_or_internals() -> None:
    token = API.expired()
    response = Guard(API.verifier).admit(request(("Authorization", bearer(token))))

    assert isinstance(response, HttpResponse)
    text = response.body.decode()
    assert token not in text
    assert token.split(".")[1] not in text
    assert "Traceback" not in text and "expired" not in text


def test_ver50_missing_scope_is_403_with_scope_attribute() -> None:
    guard = Guard(API.verifier, scopes=["orders:read", "orders:write"])

    response = guard.admit(request(("Authorization", bearer(API.read_only()))))

    assert isinstance(response, HttpResponse)
    assert response.status == 403
    assert response.header("WWW-Authenticate") == (
        'Bearer realm="tessera", error="insufficient_scope", scope="orders:read orders:write"'
    )
    assert body_of(response)["error"] == "insufficient_scope"
    assert isinstance(guard.admit(request(("Authorization", bearer(API.token())))), Principal)


@pytest.mark.parametrize(
    "scope_claim",
    [
        {"scope": ["orders:read"]},
        {"scope": "orders:read  orders:write"},
        {"scope": "orders:read orders:read"},
    ],
)
def test_ver50_malformed_scope_claim_is_401(scope_claim: dict[str, Any]) -> None:
    error = rejection(Guard(API.verifier), request(("Authorization", bearer(API.token(**scope_claim)))))

    assert (error.status, error.error) == (401, "invalid_token")


def test_ver50_scp_claim_is_read_as_scopes() -> None:
    token = API.token(scope=None, scp=["orders:read", "orders:write"])

    assert Guard(API.verifier, scopes=["orders:write"]).authenticate(
        request(("Authorization", bearer(token)))
    ).scopes == {"orders:read", "orders:write"}


def test_roles_are_any_of_and_scopes_all_of() -> None:
    guard = Guard(API.verifier, roles=["admin", "clerk"])

    assert guard.authenticate(request(("Authorization", bearer(API.token(roles=["clerk"]))))).roles == {
        "clerk"
    }
    error = rejection(guard, request(("Authorization", bearer(API.token(roles=["viewer"])))))
    assert (error.status, error.error) == (403, "insufficient_scope")


def test_claim_predicates_must_all_hold_and_a_raising_predicate_denies() -> None:
    def broken(claims: Any) -> bool:
        raise KeyError("tenant")

    tenant = Guard(API.verifier, require=[lambda c: c.get("tenant") == "acme"])
    assert (
        tenant.authenticate(request(("Authorization", bearer(API.token(tenant="acme"))))).subject == "alice"
    )
    assert rejection(tenant, request(("Authorization", bearer(API.token(tenant="evil"))))).status == 403
    assert (
        rejection(
            Guard(API.verifier, require=[broken]), request(("Authorization", bearer(API.token())))
        ).status
        == 403
    )


def test_web17_cookie_and_bearer_together_are_invalid_request() -> None:
    guard = Guard(API.verifier, cookie="__Host-at")
    user_a, user_b = API.token(sub="alice"), API.token(sub="bob")

    error = rejection(guard, request(("Authorization", bearer(user_b)), ("Cookie", f"__Host-at={user_a}")))

    assert error.status == 400
    assert guard.authenticate(request(("Cookie", f"theme=dark; __Host-at={user_a}"))).subject == "alice"


def test_web18_duplicate_auth_cookie_is_invalid_request() -> None:
    guard = Guard(API.verifier, cookie="at")
    token = API.token()

    assert rejection(guard, request(("Cookie", f"at={token}; at={API.forged()}"))).status == 400
    assert rejection(guard, request(("Cookie", f"at={token}"), ("Cookie", f"at={token}"))).status == 400
    assert guard.authenticate(request(("Cookie", f"at={token}"))).subject == "alice"


def test_cookie_token_is_only_read_when_configured() -> None:
    token = API.token()

    assert rejection(Guard(API.verifier), request(("Cookie", f"at={token}"))).reason is Reason.MISSING_TOKEN
    assert rejection(Guard(API.verifier, cookie="at"), request(("Cookie", 'at="x;y"'))).status == 401


def test_lam08_client_credentials_principal_never_collides_with_a_user() -> None:
    guard = Guard(API.verifier)
    client = guard.authenticate(request(("Authorization", bearer(API.token(sub="svc-7", client_id="svc-7")))))
    user = guard.authenticate(request(("Authorization", bearer(API.token(sub="svc-7", client_id="web")))))
    sneaky = guard.authenticate(
        request(("Authorization", bearer(API.token(sub="client:svc-7", client_id="web"))))
    )

    assert client.is_client and client.principal_id == "client:svc-7"
    assert not user.is_client and user.principal_id == "svc-7"
    assert sneaky.principal_id == "user:client:svc-7"
    assert len({client.principal_id, user.principal_id, sneaky.principal_id}) == 3


def test_configuration_errors_are_raised_at_construction() -> None:
    with pytest.raises(ConfigurationError):
        Guard(API.verifier, realm='bad"realm')
    with pytest.raises(ConfigurationError):
        Guard(API.verifier, scopes="orders:read")
    with pytest.raises(ConfigurationError):
        Guard(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        CORS(allow_origins=["*"], allow_credentials=True)


def test_generic_authorize_passes_the_principal_and_maps_errors() -> None:
    @authorize(API.verifier, scopes=["orders:write"])
    def handler(req: HttpRequest, principal: Principal) -> HttpResponse:
        return HttpResponse(200, body=principal.principal_id.encode())

    assert handler(request(("Authorization", bearer(API.token())))).body == b"alice"
    assert handler(request(("Authorization", bearer(API.read_only())))).status == 403
    assert handler(request()).status == 401


async def test_generic_authorize_supports_async_handlers() -> None:
    @authorize(API.verifier)
    async def handler(req: HttpRequest, principal: Principal) -> HttpResponse:
        return HttpResponse(200, body=principal.principal_id.encode())

    assert (await handler(request(("Authorization", bearer(API.token()))))).body == b"alice"
    assert (await handler(request(("Authorization", bearer(API.expired()))))).status == 401
