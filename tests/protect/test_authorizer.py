"""Lambda authorizers against the security catalogue's LAM cases."""

from __future__ import annotations

import functools
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera import ConfigurationError, TokenError, Verifier
from tessera.errors import Reason
from tessera.protect import Principal
from tessera.protect import authorizer as authorizer_module
from tessera.protect.authorizer import (
    DEFAULT_CACHE_TTL_SECONDS,
    LambdaAuthorizer,
    Unauthorized,
    check_identity_sources,
)
from tessera.protect.iam import policy_allows, policy_document
from tessera.protect.routes import RouteRules, parse_routes
from tessera.testing import LocalIssuer, Response
from tessera.testing.forge import bad_signature
from tessera.verify.jwks import RemoteKeySet
from tessera.verify.keys import VerificationKey

from .support import AUDIENCE, Api, bearer, load_event

API = Api()
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
RULES = parse_routes(
    {
        "routes": [
            {"method": "GET", "path": "/items", "scopes": ["items:read"]},
            {"method": "GET", "path": "/items/{id}", "scopes": ["items:read"]},
            {"method": "DELETE", "path": "/items/{id}", "scopes": ["items:write"]},
            {"method": "GET", "path": "/items/{id}/admin", "roles": ["admin"]},
            {"method": "ANY", "path": "/files/{proxy+}", "scopes": ["files"]},
        ]
    }
)
AUTHORIZER = LambdaAuthorizer(API.verifier, RULES)
# minted at import, so it must outlive a slow suite: a day, not the issuer's 15-minute default
READER = API.token(scope="items:read", exp=int(time.time()) + 86_400)


def arn(method: str, path: str, prefix: str = PREFIX) -> str:
    return f"{prefix}/{method}/{path.lstrip('/')}"


def token_event(authorization: Any, method: str = "GET", path: str = "/items") -> dict[str, Any]:
    event = load_event("authorizer_token")
    event["authorizationToken"] = authorization
    event["methodArn"] = arn(method, path)
    return event


def request_event(*authorizations: str, method: str = "GET", path: str = "/items") -> dict[str, Any]:
    event = load_event("authorizer_request_v1")
    event["methodArn"] = arn(method, path)
    if authorizations:
        event["headers"]["Authorization"] = authorizations[-1]
        event["multiValueHeaders"]["Authorization"] = list(authorizations)
    return event


def v2_event(authorization: str | None, method: str = "GET", path: str = "/items") -> dict[str, Any]:
    event = load_event("authorizer_v2")
    event["routeArn"] = arn(method, path, "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    if authorization is not None:
        event["headers"]["authorization"] = authorization
        event["identitySource"] = [authorization]
    return event


class CachingGateway:
    """API Gateway's side of a REST TOKEN authorizer with caching on: the policy is cached per token."""

    def __init__(self, authorizer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.authorizer = authorizer
        self.cache: dict[str, dict[str, Any]] = {}
        self.invocations = 0

    def call(self, token: str, method: str, path: str) -> int:
        key = bearer(token)
        if key not in self.cache:
            self.invocations += 1
            try:
                self.cache[key] = self.authorizer(token_event(key, method, path))
            except Unauthorized:
                return 401
        return 200 if policy_allows(self.cache[key]["policyDocument"], arn(method, path)) else 403


def exact_arn_authorizer(event: dict[str, Any]) -> dict[str, Any]:
    """The tutorial authorizer: Allow exactly the methodArn it was called for, if the scope fits."""
    claims = API.verifier.verify(event["authorizationToken"].split(" ", 1)[1])
    effect = (
        "Allow" if "items:write" in claims.scopes or event["methodArn"].endswith("/GET/items") else "Deny"
    )
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
    return {
        "principalId": claims.subject,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }


def wildcard_authorizer(event: dict[str, Any]) -> dict[str, Any]:
    """The common "fix": Allow ``*/*`` once the first route was allowed."""
    claims = API.verifier.verify(event["authorizationToken"].split(" ", 1)[1])
    resource = event["methodArn"].rsplit("/", 2)[0].rsplit("/", 1)[0] + "/*/*"
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}
    return {
        "principalId": claims.subject,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }


def test_lam01_naive_policies_show_the_symptom_and_the_vulnerability() -> None:
    exact = CachingGateway(exact_arn_authorizer)
    assert exact.call(READER, "GET", "/items") == 200
    assert exact.call(READER, "GET", "/items/1") == 403  # allowed route, refused from the cache

    wildcard = CachingGateway(wildcard_authorizer)
    assert wildcard.call(READER, "GET", "/items") == 200
    assert wildcard.call(READER, "DELETE", "/items/1") == 200  # the vulnerability


def test_lam01_cached_policy_is_right_for_every_route() -> None:
    gateway = CachingGateway(AUTHORIZER.token)

    statuses = {
        (method, path): gateway.call(READER, method, path)
        for method, path in [
            ("GET", "/items"),
            ("DELETE", "/items/1"),
            ("GET", "/items/1"),
            ("GET", "/items/1/admin"),
            ("GET", "/items/1/other"),
            ("POST", "/files/a/b"),
            ("GET", "/unknown"),
        ]
    }

    assert gateway.invocations == 1
    assert statuses == {
        ("GET", "/items"): 200,
        ("DELETE", "/items/1"): 403,
        ("GET", "/items/1"): 200,
        ("GET", "/items/1/admin"): 403,
        ("GET", "/items/1/other"): 403,
        ("POST", "/files/a/b"): 403,
        ("GET", "/unknown"): 403,
    }


def test_lam01_whichever_route_comes_first_the_cached_answers_agree() -> None:
    admin = API.token(scope="items:read items:write files", roles=["admin"])
    routes = [("GET", "/items"), ("DELETE", "/items/9"), ("GET", "/items/9/admin"), ("PUT", "/files/x")]
    answers = []
    for first in routes:
        gateway = CachingGateway(AUTHORIZER.token)
        gateway.call(admin, *first)
        answers.append([gateway.call(admin, *route) for route in routes])

    assert answers == [[200, 200, 200, 200]] * len(routes)


def test_lam01_literal_route_under_a_denied_parameter_route_is_allowed() -> None:
    # /users/me needs only "profile"; /users/{id} needs "admin": a Deny for GET/users/* would
    # also cover GET/users/me (Deny wins), refusing the one route this caller may use.
    rules = parse_routes(
        {
            "routes": [
                {"method": "GET", "path": "/users/me", "scopes": ["profile"]},
                {"method": "GET", "path": "/users/{id}", "scopes": ["admin"]},
                {"method": "GET", "path": "/items/{id}", "scopes": ["profile"]},
            ]
        }
    )
    gateway = CachingGateway(LambdaAuthorizer(API.verifier, rules).token)
    profile, admin = API.token(scope="profile"), API.token(scope="profile admin")

    assert gateway.call(profile, "GET", "/users/me") == 200
    assert gateway.call(profile, "GET", "/users/42") == 403
    assert gateway.call(profile, "GET", "/items/7") == 200
    assert gateway.call(profile, "GET", "/items/7/users/42") == 403
    assert gateway.call(admin, "GET", "/users/42") == 200
    assert gateway.call(admin, "GET", "/users/me") == 200


def test_lam01_deny_stays_when_a_wildcard_allow_reaches_the_denied_route() -> None:
    # ANY /users/{id} is allowed and overlaps GET/users/*: the Deny must stay, whatever it costs.
    rules = parse_routes(
        {
            "routes": [
                {"method": "GET", "path": "/users/me", "scopes": ["profile"]},
                {"method": "GET", "path": "/users/{id}", "scopes": ["admin"]},
                {"method": "ANY", "path": "/{kind}/{id}", "scopes": ["profile"]},
            ]
        }
    )
    gateway = CachingGateway(LambdaAuthorizer(API.verifier, rules).token)
    profile = API.token(scope="profile")

    assert gateway.call(profile, "GET", "/users/42") == 403
    assert gateway.call(profile, "PUT", "/things/1") == 200


def test_lam01_cached_allow_never_reaches_an_undeclared_route() -> None:
    # Issue 10 item 5: '*' spans '/', so ANY /items as */items also opened GET /x/items, and
    # /{a}/mine as GET/*/mine also opened GET /x/y/mine, neither of which the rules declare.
    rules = parse_routes(
        {
            "routes": [
                {"method": "ANY", "path": "/items", "scopes": ["items:read"]},
                {"method": "GET", "path": "/{a}/mine", "scopes": ["items:read"]},
            ]
        }
    )
    gateway = CachingGateway(LambdaAuthorizer(API.verifier, rules).token)

    assert gateway.call(READER, "GET", "/items") == 200
    assert gateway.call(READER, "GET", "/x/items") == 403
    assert gateway.call(READER, "GET", "/x/y/mine") == 403
    assert gateway.call(READER, "GET", "//mine") == 403
    assert gateway.call(READER, "POST", "/items") == 200
    assert gateway.call(READER, "DELETE", "/items") == 200
    assert gateway.call(READER, "GET", "/x/mine") == 200
    assert gateway.call(READER, "POST", "/x/mine") == 403
    assert gateway.invocations == 1


def test_lam01_a_rule_no_pattern_opens_exactly_is_allowed_arn_by_arn() -> None:
    # GET/items/* would also open GET /items/1/other, and its Deny GET/items/*/* would refuse
    # GET /items/1/parts: the cached policy is too narrow for /items/{id} (documented), never wide.
    rules = parse_routes(
        {
            "routes": [
                {"method": "GET", "path": "/items/{id}", "scopes": ["items:read"]},
                {"method": "GET", "path": "/items/{id}/parts", "scopes": ["items:read"]},
            ]
        }
    )
    authorizer = LambdaAuthorizer(API.verifier, rules)
    gateway = CachingGateway(authorizer.token)

    assert gateway.call(READER, "GET", "/items/1") == 200
    assert gateway.call(READER, "GET", "/items/2/parts") == 200
    assert gateway.call(READER, "GET", "/items/1/other") == 403
    assert gateway.call(READER, "GET", "/items/2") == 403  # from the cache, until its TTL ends
    fresh = authorizer.token(token_event(bearer(READER), "GET", "/items/2"))["policyDocument"]
    assert policy_allows(fresh, arn("GET", "/items/2")) and not policy_allows(fresh, arn("GET", "/items/2/x"))


_PATH_SEGMENTS = ("users", "me", "7", "admin")
_CONCRETE_PATHS = [
    "/" + "/".join(parts) for depth in (1, 2, 3) for parts in itertools.product(_PATH_SEGMENTS, repeat=depth)
]
_ROUTE_PATHS = (
    "/users",
    "/users/me",
    "/users/{id}",
    "/users/{id}/admin",
    "/users/me/admin",
    "/users/{proxy+}",
    "/{kind}/me",
    "/{kind}/{id}",
)
_SCOPE_SETS = (("a",), ("b",), ("a", "b"))


@functools.cache
def _scoped_token(scopes: tuple[str, ...]) -> str:
    """A token for these scopes, minted on first use (at import it could expire before the test runs)."""
    return API.token(scope=" ".join(scopes))


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    routes=st.lists(
        st.tuples(
            st.sampled_from(("GET", "DELETE", "ANY")), st.sampled_from(_ROUTE_PATHS), st.sampled_from("ab")
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda r: (r[0], r[1]),
    ),
    scopes=st.sampled_from(_SCOPE_SETS),
    first=st.tuples(st.sampled_from(("GET", "DELETE")), st.sampled_from(_CONCRETE_PATHS)),
)
def test_lam01_cached_policy_never_opens_a_declared_route_the_rules_refuse(
    routes: list[tuple[str, str, str]], scopes: tuple[str, ...], first: tuple[str, str]
) -> None:
    try:
        rules = parse_routes({"routes": [{"method": m, "path": p, "scopes": [s]} for m, p, s in routes]})
    except ConfigurationError:
        return  # two patterns the rules call the same route
    gateway = CachingGateway(LambdaAuthorizer(API.verifier, rules, cache_ttl_seconds=0).token)
    permitted = rules.allowed(scopes, ())
    gateway.call(_scoped_token(scopes), *first)

    for method in ("GET", "DELETE"):
        for path in _CONCRETE_PATHS:
            route = rules.match(method, path)
            status = gateway.call(_scoped_token(scopes), method, path)
            if route is None or route not in permitted:
                assert status == 403
            elif len(permitted) == len(rules.routes) and _patterns_are_exact(rules):
                assert status == 200  # nothing to deny: every declared route is open
    assert gateway.invocations == 1


def _patterns_are_exact(rules: RouteRules) -> bool:
    """No {proxy+} rule and no rule deeper than a {param} rule of a method it shares: each
    parameter's Deny of two segments (GET/users/*/*) then refuses no rule, and the patterns
    open every path of every rule. Otherwise some rule may be opened only ARN by ARN."""
    routes = rules.routes
    if any(2 in r.ranks for r in routes):
        return False
    return not any(
        1 in short.ranks
        and len(long.segments) > len(short.segments)
        and (short.method == long.method or "ANY" in (short.method, long.method))
        for short in routes
        for long in routes
    )


def test_lam01_unmatched_arn_is_denied_as_received_not_normalised() -> None:
    # GET //items matches no rule: its Deny must name that ARN, not GET/items, which the
    # cached policy would then refuse to this caller for the whole TTL.
    event = token_event(bearer(READER))
    event["methodArn"] = f"{PREFIX}/GET//items"

    policy = LambdaAuthorizer(API.verifier, RULES).token(event)["policyDocument"]

    assert not policy_allows(policy, f"{PREFIX}/GET//items")
    assert policy_allows(policy, f"{PREFIX}/GET/items")
    assert policy_allows(policy, f"{PREFIX}/GET/items/1")
    assert not policy_allows(policy, f"{PREFIX}/DELETE/items/1")


def test_lam01_policy_allows_the_permitted_routes_and_denies_what_their_patterns_overreach() -> None:
    policy = AUTHORIZER.token(token_event(bearer(READER), "DELETE", "/items/1"))

    statements = {s["Effect"]: s["Resource"] for s in policy["policyDocument"]["Statement"]}
    assert statements["Allow"] == [f"{PREFIX}/GET/items", f"{PREFIX}/GET/items/*"]
    assert set(statements["Deny"]) == {
        f"{PREFIX}/GET/items/*/*",  # '*' spans '/': {id} is one segment wide
        f"{PREFIX}/*//*",  # empty segments: no rule's path
        f"{PREFIX}/*/*/",
        f"{PREFIX}/DELETE/items/1",  # the refused request itself
    }


@pytest.mark.parametrize(
    "method_arn",
    [
        f"{PREFIX}/GET/items",
        f"{PREFIX}/GET/a/b/c/d/e/f/g/h/i/j/k",
        f"{PREFIX}/GET/items/%2F..%2Fadmin",
        f"{PREFIX}/GET/items/",
        f"{PREFIX}/GET/" + "a/" * 700,
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/items",
    ],
)
def test_lam02_resources_stay_inside_the_api_and_stage(method_arn: str) -> None:
    event = token_event(bearer(READER))
    event["methodArn"] = method_arn
    prefix = method_arn.split("/", 2)
    stage_prefix = f"{prefix[0]}/{prefix[1]}/"

    policy = AUTHORIZER.token(event)

    resources = [r for s in policy["policyDocument"]["Statement"] for r in s["Resource"]]
    assert resources and all(r.startswith(stage_prefix) and r != "*" for r in resources)
    assert not policy_allows(
        policy["policyDocument"], "arn:aws:execute-api:us-east-1:123456789012:other/prod/GET/items"
    )
    assert not policy_allows(
        policy["policyDocument"], "arn:aws:execute-api:us-east-1:123456789012:abcdef123/dev/GET/items"
    )


@pytest.mark.parametrize(
    "method_arn",
    [
        None,
        "",
        "*",
        f"{PREFIX}/GET/items/*",
        f"{PREFIX}/GET/items?x=1",
        f"{PREFIX}/GET/" + "a" * 1600,
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/*/*",
        "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/items",
        "arn:aws:execute-api:us-east-1:12345:abcdef123/prod/GET/items",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        f"{PREFIX}/GET/items\n",
        ["arn"],
    ],
)
def test_lam02_unparseable_method_arns_get_401_not_a_wider_policy(method_arn: Any) -> None:
    event = token_event(bearer(READER))
    event["methodArn"] = method_arn

    with pytest.raises(Unauthorized):
        AUTHORIZER.token(event)
    assert AUTHORIZER.token(token_event(bearer(READER)))["principalId"] == "alice"


def test_lam03_cache_key_without_the_credential_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        check_identity_sources(
            ["method.request.header.X-Tenant"], cache_ttl_seconds=300, route_specific=False
        )
    with pytest.raises(ConfigurationError):
        LambdaAuthorizer(API.verifier, RULES, identity_sources=["$request.header.Host"])
    with pytest.raises(ConfigurationError):
        LambdaAuthorizer(API.verifier, RULES, cookie="at", identity_sources=["$request.header.Authorization"])
    check_identity_sources(
        ["method.request.header.Authorization"], cache_ttl_seconds=300, route_specific=False
    )
    check_identity_sources(["method.request.header.X-Tenant"], cache_ttl_seconds=0, route_specific=True)


@pytest.mark.parametrize(
    "source",
    [
        "$request.querystring.header.authorization",
        "method.request.querystring.header.Authorization",
        "$stageVariables.header.authorization",
        "$request.header.X-Header.Authorization",
    ],
)
def test_lam03_a_source_merely_ending_in_header_authorization_is_not_the_credential(source: str) -> None:
    with pytest.raises(ConfigurationError):
        check_identity_sources([source], cache_ttl_seconds=300, route_specific=False)
    for genuine in ("$request.header.Authorization", "method.request.header.authorization"):
        check_identity_sources([source, genuine], cache_ttl_seconds=300, route_specific=False)
    check_identity_sources(
        ["$request.header.Cookie"], cache_ttl_seconds=300, route_specific=False, cookie="at"
    )
    with pytest.raises(ConfigurationError):
        check_identity_sources(
            ["$request.querystring.header.cookie"], cache_ttl_seconds=300, route_specific=False, cookie="at"
        )


def test_lam04_simple_responses_cached_without_route_key_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        LambdaAuthorizer(API.verifier, RULES, simple_responses=True, cache_ttl_seconds=300)
    routed = LambdaAuthorizer(
        API.verifier,
        RULES,
        simple_responses=True,
        cache_ttl_seconds=300,
        identity_sources=["$request.header.Authorization", "$context.routeKey"],
    )
    uncached = LambdaAuthorizer(API.verifier, RULES, simple_responses=True, cache_ttl_seconds=0)

    assert routed.http_api(v2_event(bearer(READER)))["isAuthorized"] is True
    assert routed.http_api(v2_event(bearer(READER), "DELETE", "/items/1"))["isAuthorized"] is False
    assert uncached.http_api(v2_event(bearer(READER), "DELETE", "/items/1"))["isAuthorized"] is False


def test_lam04_a_boolean_cached_on_one_route_is_wrong_on_another() -> None:
    authorizer = LambdaAuthorizer(API.verifier, RULES, simple_responses=True, cache_ttl_seconds=0)
    cache: dict[tuple[str, ...], bool] = {}

    def gateway(event: dict[str, Any], sources: list[str]) -> bool:
        key = tuple(event["identitySource"]) + tuple(
            event["routeKey"] for s in sources if s == "$context.routeKey"
        )
        if key not in cache:
            cache[key] = authorizer.http_api(event)["isAuthorized"]
        return cache[key]

    header_only = ["$request.header.Authorization"]
    assert gateway(v2_event(bearer(READER)), header_only) is True
    assert gateway(v2_event(bearer(READER), "DELETE", "/items/1"), header_only) is True  # reused: wrong
    cache.clear()
    with_route = [*header_only, "$context.routeKey"]
    assert gateway(v2_event(bearer(READER)), with_route) is True
    assert gateway(v2_event(bearer(READER), "DELETE", "/items/1"), with_route) is False


class FailingKeys:
    """A key source that fails the way an unreachable or slow JWKS endpoint does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_key(self, kid: str | None) -> VerificationKey:
        raise self.error

    async def aget_key(self, kid: str | None) -> VerificationKey:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [TokenError(Reason.KEYS_UNAVAILABLE), TimeoutError("jwks"), OSError("refused"), RuntimeError("bug")],
)
def test_lam05_lam10_jwks_failures_fail_closed(error: Exception) -> None:
    verifier = Verifier(
        issuer=API.issuer.issuer, audience=AUDIENCE, token_type="at+jwt", keys=FailingKeys(error)
    )

    with pytest.raises(Unauthorized):
        LambdaAuthorizer(verifier, RULES).token(token_event(bearer(READER)))
    assert LambdaAuthorizer(API.verifier, RULES).token(token_event(bearer(READER)))["principalId"] == "alice"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer garbage",
        "Bearer a.b.c",
        bearer(API.expired()),
        bearer(API.forged()),
        bearer(API.wrong_audience()),
    ],
)
def test_lam05_bad_or_missing_tokens_raise_unauthorized(authorization: str | None) -> None:
    with pytest.raises(Unauthorized) as caught:
        AUTHORIZER.token(token_event(authorization))
    assert str(caught.value) == "Unauthorized"

    with pytest.raises(Unauthorized):
        AUTHORIZER.request(request_event(*([authorization] if authorization else [])))
    assert AUTHORIZER.request(request_event(bearer(READER)))["principalId"] == "alice"


@pytest.mark.parametrize(
    "target",
    ["flatten_context", "policy_document", "rules_policy", "parse_execute_api_arn"],
)
def test_lam05_no_path_returns_allow_on_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected")

    monkeypatch.setattr(authorizer_module, target, explode)
    fresh = LambdaAuthorizer(API.verifier, RULES)

    calls: list[Callable[[], dict[str, Any]]] = [
        lambda: fresh.token(token_event(bearer(READER))),
        lambda: fresh.request(request_event(bearer(READER))),
        lambda: fresh.http_api(v2_event(bearer(READER))),
    ]
    for call in calls:
        with pytest.raises(Unauthorized):
            call()
    monkeypatch.undo()
    assert all(call()["principalId"] == "alice" for call in calls)


def test_lam05_failing_rules_and_principal_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("injected")

    monkeypatch.setattr(RouteRules, "allowed", explode)
    with pytest.raises(Unauthorized):
        LambdaAuthorizer(API.verifier, RULES).token(token_event(bearer(READER)))
    monkeypatch.undo()
    monkeypatch.setattr(Principal, "from_claims", explode)
    with pytest.raises(Unauthorized):
        LambdaAuthorizer(API.verifier, RULES).token(token_event(bearer(READER)))
    monkeypatch.undo()
    assert LambdaAuthorizer(API.verifier, RULES).token(token_event(bearer(READER)))["principalId"] == "alice"


def test_lam05_verifier_returning_garbage_fails_closed() -> None:
    class Liar:
        def verify(self, token: str) -> Any:
            return {"sub": "admin", "scope": "items:write"}

        async def averify(self, token: str) -> Any:
            return self.verify(token)

    with pytest.raises(Unauthorized):
        LambdaAuthorizer(Liar(), RULES).token(token_event(bearer(READER)))
    assert LambdaAuthorizer(API.verifier, RULES).token(token_event(bearer(READER)))["principalId"] == "alice"


def test_lam06_cached_allow_outlives_expiry_a_documented_limitation() -> None:
    now = [time.time()]
    verifier = Verifier(
        issuer=API.issuer.issuer,
        audience=AUDIENCE,
        token_type="at+jwt",
        jwks=API.issuer.jwks(),
        leeway_seconds=0,
        clock=lambda: now[0],
    )
    authorizer = LambdaAuthorizer(verifier, RULES)
    short = API.token(scope="items:read", iat=int(now[0]), exp=int(now[0]) + 5)
    gateway = CachingGateway(authorizer.token)

    assert gateway.call(short, "GET", "/items") == 200
    now[0] += 10
    assert gateway.call(short, "GET", "/items") == 200  # served from API Gateway's cache
    with pytest.raises(Unauthorized):
        authorizer.token(token_event(bearer(short)))  # any fresh invocation refuses it
    assert DEFAULT_CACHE_TTL_SECONDS <= 60
    with pytest.raises(ConfigurationError):
        LambdaAuthorizer(API.verifier, RULES, cache_ttl_seconds=3601)


def test_lam07_context_is_flat_bounded_and_from_verified_claims_only() -> None:
    token = API.token(
        scope="items:read",
        roles=["admin", "clerk"],
        org={"id": 1},
        groups=["a", {"b": 2}],
        note="x" * 4000,  # over the 1024-character bound, within the 8 KiB token limit
        tier=3,
        beta=True,
    )
    event = request_event(bearer(token))
    event["headers"]["X-User-Id"] = "admin"
    authorizer = LambdaAuthorizer(
        API.verifier, RULES, context_claims=["org", "groups", "note", "tier", "beta"]
    )

    context = authorizer.request(event)["context"]

    assert all(isinstance(v, str | int | float | bool) for v in context.values())
    assert context["roles"] == "admin clerk"
    assert context["tier"] == 3 and context["beta"] is True
    assert {"org", "groups", "note"}.isdisjoint(context)
    assert "admin" not in {context["sub"], context["principal_id"]}
    assert len(json.dumps(context)) < 8192


def test_lam08_principal_id_namespaces_clients() -> None:
    user = AUTHORIZER.token(token_event(bearer(API.token(sub="svc-7", client_id="web", scope="items:read"))))
    client = AUTHORIZER.token(
        token_event(bearer(API.token(sub="svc-7", client_id="svc-7", scope="items:read")))
    )

    assert user["principalId"] == "svc-7"
    assert client["principalId"] == "client:svc-7"
    assert client["context"]["is_client"] is True


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (f"Bearer {READER}", True),
        (f"bearer {READER}", True),
        (READER, False),
        ("Bearer ", False),
        ("Bearer", False),
        (f"Bearer {READER},{READER}", False),
        (f"Basic {READER}", False),
    ],
)
def test_lam09_token_extraction(value: str, accepted: bool) -> None:
    calls: list[Callable[[], dict[str, Any]]] = [
        lambda: AUTHORIZER.token(token_event(value)),
        lambda: AUTHORIZER.request(request_event(value)),
        lambda: AUTHORIZER.http_api(v2_event(value)),
    ]
    for call in calls:
        if accepted:
            assert call()["principalId"] == "alice"
        else:
            with pytest.raises(Unauthorized):
                call()


def test_lam09_two_authorization_values_in_multi_value_headers_are_refused() -> None:
    with pytest.raises(Unauthorized):
        AUTHORIZER.request(request_event(bearer(READER), bearer(READER)))


def _fuzzed_events() -> list[Any]:
    good = bearer(READER)
    token, request, v2 = token_event(good), request_event(good), v2_event(good)
    events: list[Any] = [None, 7, "TOKEN", [], {}, {"type": "TOKEN"}, {"type": "OTHER", "methodArn": PREFIX}]
    events += [{**token, "methodArn": None}, {k: v for k, v in token.items() if k != "methodArn"}]
    events += [
        {**token, "type": "REQUEST"},
        {**request, "type": "TOKEN"},
        {**request, "headers": None, "multiValueHeaders": None},
    ]
    events += [
        {**request, "headers": {"AUTHORIZATION": 5}},
        {**request, "multiValueHeaders": {"Authorization": good}},
    ]
    events += [
        {**v2, "routeArn": None},
        {**v2, "headers": None},
        {**v2, "cookies": "a=b"},
        {**v2, "version": "3.0"},
    ]
    events += [{**v2, "requestContext": None}, {**v2, "identitySource": None, "headers": {}}]
    events += [
        {**token, "authorizationToken": ["Bearer", READER]},
        {**token, "authorizationToken": good.encode()},
    ]
    return events


@pytest.mark.parametrize("event", _fuzzed_events())
def test_lam11_event_shape_fuzzing_only_fails_cleanly(event: Any) -> None:
    try:
        result = AUTHORIZER(event, None)
    except Unauthorized:
        result = None
    if result is not None:  # only an event that still carries the genuine token where it is read
        assert READER in json.dumps(event)
        statements = result["policyDocument"]["Statement"]
        assert all(r.startswith(f"{PREFIX}/") for s in statements for r in s["Resource"])
    for genuine in (token_event(bearer(READER)), request_event(bearer(READER)), v2_event(bearer(READER))):
        assert AUTHORIZER(genuine, None)["principalId"] == "alice"


def test_lam11_mixed_case_header_names_are_read() -> None:
    event = request_event()
    event["headers"] = {"aUtHoRiZaTiOn": bearer(READER)}
    event["multiValueHeaders"] = None

    assert AUTHORIZER.request(event)["principalId"] == "alice"


def test_http_api_iam_policy_and_dispatch() -> None:
    policy = AUTHORIZER(v2_event(bearer(READER)), None)

    assert policy["principalId"] == "alice"
    assert policy_allows(
        policy["policyDocument"], "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/items/5"
    )
    assert AUTHORIZER(request_event(bearer(READER)), None)["principalId"] == "alice"
    assert AUTHORIZER(token_event(bearer(READER)), None)["principalId"] == "alice"


def test_memoised_policies_are_copies_and_keyed_by_api_and_stage() -> None:
    authorizer = LambdaAuthorizer(API.verifier, RULES)
    first = authorizer.token(token_event(bearer(READER)))
    first["policyDocument"]["Statement"][0]["Resource"].append("*")
    dev = token_event(bearer(READER))
    dev["methodArn"] = dev["methodArn"].replace("/prod/", "/dev/")

    again = authorizer.token(token_event(bearer(READER)))
    other_stage = authorizer.token(dev)

    assert "*" not in again["policyDocument"]["Statement"][0]["Resource"]
    assert all("/dev/" in r for s in other_stage["policyDocument"]["Statement"] for r in s["Resource"])


def test_policy_evaluation_deny_wins() -> None:
    document = policy_document([f"{PREFIX}/GET/items/*"], [f"{PREFIX}/GET/items/*/admin"])

    assert policy_allows(document, f"{PREFIX}/GET/items/1")
    assert not policy_allows(document, f"{PREFIX}/GET/items/1/admin")
    assert not policy_allows(document, f"{PREFIX}/POST/items/1")
    assert not policy_allows({"Statement": "x"}, f"{PREFIX}/GET/items/1")


def test_lam07_backend_reads_identity_from_the_authorizer_context_only() -> None:
    from tessera.protect.aws_lambda import authorizer_context

    result = AUTHORIZER.request(request_event(bearer(READER)))
    rest = load_event("rest_v1")
    rest["headers"]["X-User-Id"] = "admin"
    rest["requestContext"]["authorizer"] = {**result["context"], "principalId": result["principalId"]}
    http = load_event("http_v2")
    http["headers"]["x-user-id"] = "admin"
    http["requestContext"]["authorizer"] = {"lambda": result["context"]}

    assert authorizer_context(rest)["principal_id"] == "alice"
    assert authorizer_context(http)["principal_id"] == "alice"
    assert authorizer_context(load_event("rest_v1")) == {}
    assert authorizer_context({"requestContext": "x"}) == {}


def test_lam05_failures_log_no_token(caplog: pytest.LogCaptureFixture) -> None:
    token = API.token(scope="items:read", sub="sentinel-subject-0x5eed")

    class Leaky:
        def verify(self, presented: str) -> Any:
            raise RuntimeError(f"could not verify {presented}")

        async def averify(self, presented: str) -> Any:
            return self.verify(presented)

    with caplog.at_level("DEBUG"), pytest.raises(Unauthorized) as caught:
        LambdaAuthorizer(Leaky(), RULES).token(token_event(bearer(token)))

    assert "RuntimeError" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text
    assert token not in str(caught.value) and caught.value.__cause__ is None


def test_lam01_depth_guard_is_kept_when_only_unrelated_routes_go_deeper() -> None:
    rules = parse_routes(
        {
            "routes": [
                {"method": "GET", "path": "/items/{id}", "scopes": ["items:read"]},
                {"method": "ANY", "path": "/files/{proxy+}", "scopes": ["items:read"]},
                {"method": "GET", "path": "/users/{id}", "scopes": ["items:read"]},
                {"method": "GET", "path": "/users/{id}/posts", "scopes": ["items:read"]},
            ]
        }
    )
    gateway = CachingGateway(LambdaAuthorizer(API.verifier, rules).token)

    assert gateway.call(READER, "GET", "/items/1") == 200
    assert gateway.call(READER, "GET", "/items/1/undeclared") == 403
    assert gateway.call(READER, "POST", "/files/a/b/c") == 200
    assert gateway.call(READER, "GET", "/users/1/posts") == 200


def test_lam10_keys_are_fetched_once_across_invocations(local_issuer: LocalIssuer) -> None:
    verifier = Verifier(
        issuer=local_issuer.issuer,
        audience=AUDIENCE,
        token_type="at+jwt",
        keys=RemoteKeySet(local_issuer.jwks_uri),
    )
    authorizer = LambdaAuthorizer(
        verifier, RULES
    )  # module scope in a real function: built once per container

    for n in range(5):
        token = local_issuer.mint(aud=AUDIENCE, sub=f"user-{n}", scope="items:read")
        assert authorizer.token(token_event(bearer(token)))["principalId"] == f"user-{n}"

    assert local_issuer.server is not None
    assert local_issuer.server.count(local_issuer.jwks_path) == 1


def test_lam10_slow_jwks_endpoint_is_401_not_a_hang_or_an_allow(local_issuer: LocalIssuer) -> None:
    local_issuer.jwks_response = Response.json(local_issuer.jwks())._replace(delay_seconds=3.0)
    keys = RemoteKeySet(local_issuer.jwks_uri, timeout_seconds=0.2)
    authorizer = LambdaAuthorizer(
        Verifier(issuer=local_issuer.issuer, audience=AUDIENCE, token_type="at+jwt", keys=keys), RULES
    )
    token = local_issuer.mint(aud=AUDIENCE, scope="items:read")

    with pytest.raises(Unauthorized):
        authorizer.token(token_event(bearer(token)))


def test_remembered_identities_never_mix_callers() -> None:
    authorizer = LambdaAuthorizer(API.verifier, RULES)
    alice = API.token(sub="alice", scope="items:read")
    bob = API.token(sub="bob", scope="items:read items:write")

    for _ in range(3):
        first = authorizer.token(token_event(bearer(alice), "DELETE", "/items/1"))
        second = authorizer.token(token_event(bearer(bob), "DELETE", "/items/1"))
        first["context"]["principal_id"] = "tampered"
        assert second["principalId"] == "bob"
        assert policy_allows(second["policyDocument"], arn("DELETE", "/items/1"))
        assert not policy_allows(first["policyDocument"], arn("DELETE", "/items/1"))
    assert authorizer.token(token_event(bearer(alice)))["context"]["principal_id"] == "alice"


def test_calling_the_instance_goes_through_the_overridable_event_methods() -> None:
    seen: list[str] = []

    class Audited(LambdaAuthorizer):
        def token(self, event: Any, context: Any = None) -> dict[str, Any]:
            seen.append("token")
            return super().token(event, context)

        def request(self, event: Any, context: Any = None) -> dict[str, Any]:
            seen.append("request")
            return super().request(event, context)

        def http_api(self, event: Any, context: Any = None) -> dict[str, Any]:
            seen.append("http_api")
            return super().http_api(event, context)

    audited = Audited(API.verifier, RULES)
    assert audited(token_event(bearer(READER)))["principalId"]
    assert audited(request_event(bearer(READER)))["principalId"]
    assert audited(v2_event(bearer(READER)))["principalId"]
    assert seen == ["token", "request", "http_api"]
    with pytest.raises(Unauthorized):
        audited(token_event(bearer(bad_signature(READER))))
