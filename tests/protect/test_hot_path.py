"""The fast paths of the protect layer decide exactly as the general ones do.

The v2 event reader, the token68 check and its remembered answers, the remembered principal,
the authorizer's remembered ARNs and the size bound of the authorizer context each skip work;
these tests show that the forged or ambiguous input is still refused and the genuine one still
accepted.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tessera.errors import Reason, TokenError
from tessera.protect import Guard, Headers, HttpRequest, HttpResponse, MultiMap, Principal
from tessera.protect.authorizer import MAX_CONTEXT_BYTES, LambdaAuthorizer, flatten_context
from tessera.protect.aws_lambda import authorize, request_from_event
from tessera.protect.bearer import is_token68, parse_authorization
from tessera.protect.iam import policy_allows
from tessera.protect.routes import parse_routes
from tessera.verify.claims import Claims

from .support import Api, bearer, load_event

API = Api()
TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 7235 token68, as the bearer module once matched it


@authorize(API.verifier, scopes=["orders:read"])
def handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
    return {"statusCode": 200, "body": principal.principal_id}


def v2_with_headers(headers: dict[str, Any]) -> dict[str, Any]:
    event = load_event("http_v2")
    event["headers"] = headers
    event["cookies"] = []
    return event


@pytest.mark.parametrize(
    "value",
    ["abc", "a.b.c", "A-._~+/z09", "ab==", "=", "", "a=b", "a b", "a\x00b", "é", "a!", "a\tb", "Zm9v+/=="],
)
def test_ver53_token68_check_agrees_with_the_rfc_grammar(value: str) -> None:
    assert is_token68(value) is (TOKEN68.fullmatch(value) is not None)


def test_ver53_bearer_token_outside_token68_is_malformed_and_a_jwt_is_not() -> None:
    token = API.token()

    with pytest.raises(TokenError) as caught:
        parse_authorization(f"Bearer {token}!")
    assert caught.value.reason is Reason.MALFORMED
    assert parse_authorization(f"Bearer {token}") == token


def test_ver53_remembered_header_values_answer_only_for_that_exact_value() -> None:
    token = API.token()
    header = bearer(token)

    assert parse_authorization(header) == token
    assert parse_authorization("".join(list(header))) is parse_authorization(header)
    for forged in (f"{header}!", f"{header[:-1]}\x00", f"{header[:-1]}é"):
        for _ in range(2):  # a refusal is never remembered as an answer
            with pytest.raises(TokenError) as caught:
                parse_authorization(forged)
            assert caught.value.reason in {Reason.MALFORMED, Reason.INVALID_REQUEST}
    assert parse_authorization(f"Basic {token}") is None
    assert parse_authorization(header) == token


def test_ver52_v2_names_differing_only_in_case_are_two_authorization_headers() -> None:
    token = API.token()
    twice = v2_with_headers({"Authorization": bearer(token), "authorization": bearer(token)})
    once = v2_with_headers({"Authorization": bearer(token), "host": "api.example"})

    assert request_from_event(twice).headers.get_all("AUTHORIZATION") == [bearer(token)] * 2
    assert handler(twice, None)["statusCode"] == 400
    assert handler(once, None)["statusCode"] == 200


@pytest.mark.parametrize("headers", [{"authorization": 7}, {7: "x"}, {"authorization": None}, ["a"]])
def test_lam11_v2_headers_that_are_not_strings_are_a_clean_400(headers: Any) -> None:
    event = v2_with_headers({"host": "api.example"})
    event["headers"] = headers

    result = handler(event, None)

    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"] == "invalid_request"
    assert handler(v2_with_headers({"authorization": bearer(API.token())}), None)["statusCode"] == 200


def test_v2_fast_path_builds_the_same_request_as_the_general_constructor() -> None:
    event = load_event("http_v2")
    event["cookies"] = []
    fast = request_from_event(event)
    general = HttpRequest(
        "GET",
        "/items/42",
        Headers(event["headers"].items()),
        MultiMap([("view", "full"), ("view", "compact")]),
    )

    assert fast == general
    assert fast.headers.items_all() == general.headers.items_all()
    assert fast.headers["ACCEPT"] == "application/json"
    assert "User-Agent" in fast.headers and "x-missing" not in fast.headers


@pytest.mark.parametrize(
    "given",
    [
        {"x-1": "a", "42": "b", "authorization": "Bearer t"},
        {"X-1": "a", "authorization": "Bearer t"},
        {"\u03a3": "a", "authorization": "Bearer t"},
        {"host": "a", "Host": "b", "authorization": "Bearer t"},
    ],
)
def test_v2_headers_read_fast_or_folded_are_the_same_headers(given: dict[str, str]) -> None:
    event = v2_with_headers(given)

    read = request_from_event(event).headers
    general = Headers(given.items())

    assert read.items_all() == general.items_all()
    for name in given:
        assert read.get_all(name) == read.get_all(name.upper()) == general.get_all(name)
    assert read.get_all("authorization") == ["Bearer t"]


def test_multimap_keeps_repeated_values_in_order() -> None:
    headers = Headers([("Accept", "a"), ("X", "1"), ("accept", "b"), ("ACCEPT", "c")])

    assert headers.get_all("accept") == ["a", "b", "c"]
    assert headers["Accept"] == "a" and headers.get("x") == "1" and headers.get("y", "z") == "z"
    assert headers.items_all() == (("Accept", "a"), ("X", "1"), ("accept", "b"), ("ACCEPT", "c"))
    assert len(headers) == 2 and sorted(headers) == ["accept", "x"]
    headers.get_all("accept").append("mutated")
    assert headers.get_all("accept") == ["a", "b", "c"]


def test_request_and_principal_are_read_only() -> None:
    request = HttpRequest("GET", "/")
    principal = Guard(API.verifier).authenticate(
        HttpRequest("GET", "/", Headers([("Authorization", bearer(API.token()))]))
    )

    with pytest.raises(AttributeError):
        request.method = "POST"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        principal.principal_id = "admin"  # type: ignore[misc]
    assert principal.principal_id == "alice"


def test_remembered_principal_follows_the_claims_object_and_never_mixes_callers() -> None:
    guard = Guard(API.verifier, scopes=["orders:read"])
    alice, bob = API.token(sub="alice"), API.token(sub="bob")

    def call(token: str) -> Principal | HttpResponse:
        return guard.admit(HttpRequest("GET", "/", Headers([("Authorization", bearer(token))])))

    seen = [call(t) for t in (alice, bob, alice, alice, bob)]

    assert [p.principal_id for p in seen if isinstance(p, Principal)] == [
        "alice",
        "bob",
        "alice",
        "alice",
        "bob",
    ]
    assert seen[2] is seen[3]  # the same cached Claims object: the principal is reused
    refused = call(API.token(sub="carol", scope="orders:write"))
    assert isinstance(refused, HttpResponse) and refused.status == 403


def test_lam01_remembered_arns_keep_unmatched_routes_denied_per_arn() -> None:
    rules = parse_routes({"routes": [{"method": "GET", "path": "/items/{id}", "scopes": ["items:read"]}]})
    authorizer = LambdaAuthorizer(API.verifier, rules)
    prefix = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
    token = bearer(API.token(scope="items:read"))

    def policy(path: str) -> dict[str, Any]:
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": f"{prefix}/GET/{path}"}
        document: dict[str, Any] = authorizer.token(event)["policyDocument"]
        return document

    for _ in range(2):  # the second round is served from the remembered ARNs and statements
        unmatched, matched = policy("other"), policy("items/1")
        assert not policy_allows(unmatched, f"{prefix}/GET/other")
        assert policy_allows(matched, f"{prefix}/GET/items/1")
        assert f"{prefix}/GET/other" not in json.dumps(matched)


def test_lam07_context_bound_still_trims_large_and_non_ascii_contexts() -> None:
    names = [f"claim{i}" for i in range(12)]

    def principal(**claims: Any) -> Principal:
        return Principal.from_claims(Claims({"sub": "alice", **claims}))

    for value in ("x" * 1000, "é" * 1000, "\x01" * 1000):
        context = flatten_context(principal(**dict.fromkeys(names, value)), names)
        assert len(json.dumps(context, ensure_ascii=False).encode()) <= MAX_CONTEXT_BYTES
        assert "principal_id" in context and names[-1] not in context
    kept = flatten_context(principal(note="é" * 10, tier=3), ["note", "tier"])
    assert kept["note"] == "é" * 10 and kept["tier"] == 3


@pytest.mark.parametrize("char", ["a", "\x01", "é"])
def test_lam07_context_size_bound_holds_for_long_standard_members(char: str) -> None:
    for count in (100, 160, 700, 1000):
        subject, client_id = "u" + char * count, "c" + char * count
        whole = {"principal_id": subject, "is_client": False, "sub": subject, "client_id": client_id}

        flattened = flatten_context(Principal.from_claims(Claims({"sub": subject, "client_id": client_id})))

        if len(json.dumps(whole, ensure_ascii=False).encode()) <= MAX_CONTEXT_BYTES:
            assert flattened == whole
        else:
            assert len(json.dumps(flattened, ensure_ascii=False).encode()) <= MAX_CONTEXT_BYTES
            assert flattened.items() < whole.items()


@pytest.mark.parametrize("char", ["a", "\x01", '"', "é", "\U0001f600", "\u2028"])
def test_lam07_context_size_bound_holds_for_every_kind_of_character(char: str) -> None:
    for count in (10, 650, 700, 1000):
        named = {"note1": char * count, "note2": char * count, "tier": 12345, "beta": True}
        whole = {"principal_id": "alice", "is_client": False, "sub": "alice", **named}

        flattened = flatten_context(Principal.from_claims(Claims({"sub": "alice", **named})), list(named))

        if len(json.dumps(whole, ensure_ascii=False).encode()) <= MAX_CONTEXT_BYTES:
            assert flattened == whole
        else:
            assert len(json.dumps(flattened, ensure_ascii=False).encode()) <= MAX_CONTEXT_BYTES
            assert flattened.items() < whole.items()
