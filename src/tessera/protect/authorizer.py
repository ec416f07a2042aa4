"""API Gateway Lambda authorizers: REST TOKEN and REQUEST, and HTTP API (payload 2.0).

Cache safety (LAM-01/02): the IAM policy returned lists every route of the rules, Allow for
those this principal may call and Deny for the others, all under the ``methodArn``'s own API
and stage. A cached policy is therefore right for every route, whichever route it was first
computed for. The Deny statements matter: ``{id}`` becomes ``*`` in an ARN, and ``*`` also
spans ``/``, so ``GET/items/*`` alone would open ``GET /items/1/admin`` as well. A Deny that
would only refuse an allowed literal route (``GET/users/*`` over ``GET /users/me``) is left out
when no wildcard Allow reaches it (:func:`_deny_needed`).

Failures: no or bad token → ``Unauthorized`` is raised (API Gateway answers 401); a verified
caller who may not use the route gets an explicit Deny (403); anything unexpected also raises
``Unauthorized``. No path returns an Allow on error: the policy is built completely, and only
then returned.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..encoding import json_dumps
from ..errors import ConfigurationError, TesseraError, TokenError
from ..verify.claims import Claims
from .audit_log import log_rejection
from .aws_lambda import request_from_event
from .bearer import parse_authorization, token_from_request
from .guard import TokenVerifier
from .iam import POLICY_VERSION, ApiArn, parse_execute_api_arn, policy_document, resource_matches, route_arn
from .principal import Principal
from .routes import Route, RouteRules

__all__ = [
    "DEFAULT_CACHE_TTL_SECONDS",
    "LambdaAuthorizer",
    "Unauthorized",
    "check_identity_sources",
    "flatten_context",
]

logger = logging.getLogger("tessera.protect.authorizer")
_SOURCE = "tessera.authorizer"

DEFAULT_CACHE_TTL_SECONDS = 60
MAX_CACHE_TTL_SECONDS = 3600
MAX_CONTEXT_VALUE_CHARS = 1024
MAX_CONTEXT_BYTES = 8192
MAX_PRINCIPAL_ID_CHARS = 1024
MAX_CACHED_POLICIES = 256
MAX_CACHED_IDENTITIES = 1024
MAX_CACHED_ARNS = 1024
ROUTE_KEY_SOURCE = "$context.routeKey"


_Statements = tuple[tuple[str, str, tuple[str, ...]], ...]
"""A policy's statements as (Action, Effect, Resource) triples, to be copied into each answer."""


class _Identity:
    """What the authorizer answers for one verified Claims object, worked out once per object.

    ``policies`` holds the policy statements per API and stage (see ``LambdaAuthorizer._api``).
    """

    __slots__ = ("claims", "context", "policies", "principal", "principal_id")

    def __init__(self, claims: Claims, principal: Principal, context: dict[str, Any]) -> None:
        self.claims = claims
        self.principal = principal
        self.principal_id = principal.principal_id
        self.context = context
        self.policies: dict[tuple[str, str | None], _Statements] = {}


class Unauthorized(TesseraError):
    """Raised to make API Gateway answer 401: its message is exactly ``Unauthorized``."""

    code = "unauthorized"

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def check_identity_sources(
    identity_sources: Sequence[str],
    *,
    cache_ttl_seconds: int,
    route_specific: bool,
    cookie: str | None = None,
) -> None:
    """Refuse an authorizer cache key that could share a decision wrongly (LAM-03, LAM-04).

    With caching on (TTL > 0) the identity sources are the cache key: they must include the
    credential (the Authorization header, or the Cookie header when the token is a cookie), and
    a route-specific decision (simple responses) also needs ``$context.routeKey``.
    """
    if type(cache_ttl_seconds) is not int or not 0 <= cache_ttl_seconds <= MAX_CACHE_TTL_SECONDS:
        raise ConfigurationError(f"cache_ttl_seconds must be from 0 to {MAX_CACHE_TTL_SECONDS}")
    if cache_ttl_seconds == 0:
        return
    credential = "cookie" if cookie is not None else "authorization"
    lowered = [s.lower() for s in identity_sources]
    if not any(
        s in (f"method.request.header.{credential}", f"$request.header.{credential}") for s in lowered
    ):
        raise ConfigurationError(
            f"with caching on, the identity sources must include the {credential} header"
        )
    if route_specific and ROUTE_KEY_SOURCE.lower() not in lowered:
        raise ConfigurationError(
            "a route-specific yes/no answer is cached per identity source: add $context.routeKey to the "
            "identity sources, set the TTL to 0, or return IAM policies instead of simple responses"
        )


def _context_value(value: Any) -> str | int | float | bool | None:
    kind = type(value)
    if kind is str:
        return value if len(value) <= MAX_CONTEXT_VALUE_CHARS else None
    if kind is bool or value is None:
        return value  # type: ignore[no-any-return]
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = " ".join(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_CONTEXT_VALUE_CHARS else None
    return None


_joined_names: dict[frozenset[str], str | None] = {}


def _joined(names: frozenset[str]) -> str | None:
    """``names`` sorted and joined by spaces (None when empty); each distinct set joined once."""
    joined = _joined_names.get(names, _joined)
    if joined is _joined:
        joined = " ".join(sorted(names)) or None
        if len(_joined_names) >= MAX_CACHED_POLICIES:
            _joined_names.clear()
        _joined_names[names] = joined
    return joined  # type: ignore[return-value]


def _surely_small(context: Mapping[str, str | int | float | bool]) -> bool:
    """True when the JSON of ``context`` cannot exceed the limit, without serialising it.

    A character takes at most 6 bytes in the JSON (``\u001f``; UTF-8 needs at most 4), and each
    member adds its quotes, colon and comma; numbers and booleans are as long as their repr.
    """
    size = 2
    for name, value in context.items():
        size += 6 * len(name) + 4 + (6 * len(value) + 2 if type(value) is str else len(repr(value)))
    return size <= MAX_CONTEXT_BYTES


_STANDARD_CONTEXT = frozenset({"principal_id", "is_client", "sub", "client_id", "scope", "roles"})
# The standard members fit the limit while their string values total at most this many
# characters: 6 bytes per character, plus about 310 bytes of names and punctuation.
_STANDARD_CHARS_BOUND = 1000


def flatten_context(principal: Principal, claims: Iterable[str] = ()) -> dict[str, str | int | float | bool]:
    """The authorizer ``context``: flat string/number/boolean values of verified claims only (LAM-07).

    Always ``principal_id``, ``is_client`` and, when present, ``sub``, ``client_id``, ``scope``
    and ``roles``; then each named claim. Lists of strings are joined by spaces; objects, other
    lists and values over 1024 characters are left out; the whole context stays under 8 KiB.
    """
    principal_id = principal.principal_id
    context: dict[str, str | int | float | bool] = {}
    if len(principal_id) <= MAX_CONTEXT_VALUE_CHARS:
        context["principal_id"] = principal_id
    context["is_client"] = principal.is_client
    chars = len(principal_id)
    for name, value in (
        ("sub", principal.subject),
        ("client_id", principal.client_id),
        ("scope", _joined(principal.scopes)),
        ("roles", _joined(principal.roles)),
    ):
        if value is not None and len(value) <= MAX_CONTEXT_VALUE_CHARS:
            context[name] = value
            chars += len(value)
    for name in claims:
        if name not in context and name not in _STANDARD_CONTEXT:
            flat = _context_value(principal.claims.get(name))
            if flat is not None:
                context[name] = flat
    if (claims or chars > _STANDARD_CHARS_BOUND) and not _surely_small(context):
        while len(json_dumps(context)) > MAX_CONTEXT_BYTES:
            context.popitem()
    return context


class LambdaAuthorizer:
    """One Lambda authorizer function for the routes in ``rules``.

    Use the entry point that matches the API Gateway configuration, or the instance itself,
    which picks by event shape::

        authorizer = LambdaAuthorizer(verifier, load_routes("routes.toml"))

        def handler(event, context):
            return authorizer(event, context)

    ``simple_responses=True`` makes HTTP API events get ``{"isAuthorized": ..., "context": ...}``;
    pass the authorizer's ``cache_ttl_seconds`` and ``identity_sources`` so that an unsafe cache
    key is refused here (see :func:`check_identity_sources`).
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        rules: RouteRules,
        *,
        context_claims: Iterable[str] = (),
        cookie: str | None = None,
        simple_responses: bool = False,
        cache_ttl_seconds: int = DEFAULT_CACHE_TTL_SECONDS,
        identity_sources: Sequence[str] = ("$request.header.Authorization",),
    ) -> None:
        if not isinstance(rules, RouteRules):
            raise ConfigurationError("rules must be RouteRules (see tessera.protect.routes.load_routes)")
        route_specific = len({(r.scopes, r.roles) for r in rules.routes}) > 1
        check_identity_sources(
            identity_sources,
            cache_ttl_seconds=cache_ttl_seconds,
            route_specific=simple_responses and route_specific,
            cookie=cookie,
        )
        self.verifier = verifier
        self.rules = rules
        self.context_claims = tuple(context_claims)
        self.cookie = cookie
        self.simple_responses = simple_responses
        self._statements: dict[tuple[Any, ...], _Statements] = {}
        self._identities: dict[int, _Identity] = {}
        self._arns: dict[str, tuple[ApiArn, Route | None, tuple[str, str | None]]] = {}

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        """Dispatch on the event: payload 2.0, REST ``TOKEN`` or REST ``REQUEST``."""
        is_mapping = type(event) is dict or isinstance(event, Mapping)
        kind = event.get("type") if is_mapping else None
        if is_mapping and event.get("version") == "2.0":
            return self.http_api(event, context)
        if kind == "TOKEN":
            return self.token(event, context)
        if kind == "REQUEST":
            return self.request(event, context)
        raise Unauthorized()

    def token(self, event: Any, context: Any = None) -> dict[str, Any]:
        """A REST API ``TOKEN`` authorizer: ``authorizationToken`` and ``methodArn``."""
        return self._guarded(event, self._token_of_token_event, "methodArn", False)

    def request(self, event: Any, context: Any = None) -> dict[str, Any]:
        """A REST API ``REQUEST`` authorizer (payload 1.0: headers, multiValueHeaders, methodArn)."""
        return self._guarded(event, self._token_of_request_event, "methodArn", False)

    def http_api(self, event: Any, context: Any = None) -> dict[str, Any]:
        """An HTTP API authorizer, payload 2.0 (``routeArn``; IAM policy or simple response)."""
        return self._guarded(event, self._token_of_request_event, "routeArn", self.simple_responses)

    def _token_of_token_event(self, event: Mapping[str, Any]) -> str:
        value = event.get("authorizationToken")
        token = parse_authorization(value) if isinstance(value, str) else None
        if token is None:
            raise Unauthorized()
        return token

    def _token_of_request_event(self, event: Mapping[str, Any]) -> str:
        return token_from_request(request_from_event(event), cookie=self.cookie)

    def _guarded(self, event: Any, extract: Any, arn_field: str, simple: bool) -> dict[str, Any]:
        try:
            if type(event) is not dict and not isinstance(event, Mapping):
                raise Unauthorized()
            api, route, api_key = self._api(event.get(arn_field))
            identity = self._identity(self.verifier.verify(extract(event)))
            if simple:
                principal = identity.principal
                allowed = route is not None and route in self.rules.allowed(principal.scopes, principal.roles)
                if not allowed:
                    _log_denied(api)
                return {"isAuthorized": allowed, "context": identity.context.copy()}
            statements = identity.policies.get(api_key)
            if statements is None:
                # Once per token and stage, not per call: the policy is cached from here on.
                if route is None or not _permits(route, identity.principal):
                    _log_denied(api)
                statements = self._statements_for(identity, api, api_key)
            return {
                "principalId": identity.principal_id,
                "policyDocument": {
                    "Version": POLICY_VERSION,
                    "Statement": [
                        {"Action": action, "Effect": effect, "Resource": list(resources)}
                        for action, effect, resources in statements
                    ],
                },
                "context": identity.context.copy(),
            }
        except Unauthorized:
            _log_unauthorized("unauthorized", event, arn_field)
            raise
        except (TokenError, ValueError, TypeError) as exc:
            _log_unauthorized(
                exc.reason.value if isinstance(exc, TokenError) else "malformed_event", event, arn_field
            )
            raise Unauthorized() from None
        except Exception as exc:
            logger.error("authorizer failed closed: %s", type(exc).__name__)
            _log_unauthorized("authorizer_failure", event, arn_field)
            raise Unauthorized() from None

    def _api(self, arn: Any) -> tuple[ApiArn, Route | None, tuple[str, str | None]]:
        """The parsed ``methodArn``/``routeArn``, the rule matching it and the part of the policy
        key it decides (the stage, and the ARN itself when no rule matches), remembered per ARN."""
        found = self._arns.get(arn) if type(arn) is str else None
        if found is None:
            api = parse_execute_api_arn(arn)
            route = self.rules.match(api.method, api.path)
            found = (api, route, (api.stage_prefix, arn if route is None else None))
            if len(self._arns) >= MAX_CACHED_ARNS:
                self._arns.clear()
            self._arns[arn] = found
        return found

    def _identity(self, claims: Claims) -> _Identity:
        """The principal and flattened context of ``claims``, remembered per Claims object.

        A warm verifier returns the same Claims object for a token it already verified; the
        entry keeps that object alive, so its ``id`` cannot be reused by another while cached.
        """
        identity = self._identities.get(id(claims))
        if identity is not None and identity.claims is claims:
            return identity
        principal = Principal.from_claims(claims)
        if len(principal.principal_id) > MAX_PRINCIPAL_ID_CHARS:
            raise Unauthorized()
        identity = _Identity(claims, principal, flatten_context(principal, self.context_claims))
        if len(self._identities) >= MAX_CACHED_IDENTITIES:
            self._identities.clear()
        self._identities[id(claims)] = identity
        return identity

    def _statements_for(
        self, identity: _Identity, api: ApiArn, api_key: tuple[str, str | None]
    ) -> _Statements:
        """The policy statements of ``identity`` in this API and stage, remembered on the identity."""
        principal = identity.principal
        statements = self._policy_statements(principal.scopes, principal.roles, api, api_key)
        if len(identity.policies) >= MAX_CACHED_POLICIES:
            identity.policies.clear()
        identity.policies[api_key] = statements
        return statements

    def _policy_statements(
        self, scopes: frozenset[str], roles: frozenset[str], api: ApiArn, api_key: tuple[str, str | None]
    ) -> _Statements:
        """The policy for these scopes and roles in this API and stage, computed once per distinct set."""
        key = (scopes, roles, api_key)
        statements = self._statements.get(key)
        if statements is None:
            allowed = set(map(id, self.rules.allowed(scopes, roles)))
            permitted = [r for r in self.rules.routes if id(r) in allowed]
            allow = [route_arn(api, r) for r in permitted]
            denied = (route_arn(api, r) for r in self.rules.routes if id(r) not in allowed)
            deny = [arn for arn in denied if _deny_needed(arn, allow)]
            deny += [route_arn(api, r) + "/*" for r in permitted if _needs_depth_guard(r, permitted)]
            if api_key[1] is not None:
                deny.append(api_key[1])
            document = policy_document(allow, deny)
            statements = tuple(
                (s["Action"], s["Effect"], tuple(s["Resource"])) for s in document["Statement"]
            )
            if len(self._statements) >= MAX_CACHED_POLICIES:
                self._statements.clear()
            self._statements[key] = statements
        return statements


def _permits(route: Route, principal: Principal) -> bool:
    """Whether ``principal`` may call ``route`` (as :meth:`RouteRules.allowed` decides)."""
    return principal.scopes.issuperset(route.scopes) and (
        not route.roles or not principal.roles.isdisjoint(route.roles)
    )


def _log_denied(api: ApiArn) -> None:
    """The rejection line for a verified caller the rules do not let call this route."""
    log_rejection(_SOURCE, "route_not_allowed", method=api.method, route=api.path, status=403)


def _log_unauthorized(reason: str, event: Any, arn_field: str) -> None:
    """The rejection line for a 401: the route from the event's ARN when it parses."""
    arn = event.get(arn_field) if isinstance(event, Mapping) else None
    try:
        api = parse_execute_api_arn(arn)
    except Exception:  # the line must never turn a 401 into something else
        log_rejection(_SOURCE, reason, status=401)
        return
    log_rejection(_SOURCE, reason, method=api.method, route=api.path, status=401)


def _deny_needed(deny: str, allow: Sequence[str]) -> bool:
    """False when the Deny ``deny`` would only refuse literal routes the caller may call.

    ``GET/users/*`` (from ``/users/{id}``) also covers an allowed ``GET/users/me``, and a Deny
    wins. It is left out only when it covers the exact ARN of an allowed literal route and no
    wildcard Allow can match anything it covers: the policy then answers the same everywhere
    else, and the literal route, which the rules give this caller, is allowed.
    """
    literal = [a for a in allow if "*" not in a]
    if not any(_globs_meet(deny, a) for a in literal):
        return True
    return any(_globs_meet(deny, a) for a in allow if "*" in a)


def _globs_meet(first: str, second: str) -> bool:
    """Whether some ARN matches both resource patterns (``*`` spans any characters, ``/`` too)."""
    stars = [first.find("*"), second.find("*")]
    if -1 in stars:  # one of them is an exact ARN
        pattern, text = (first, second) if stars[1] == -1 else (second, first)
        return resource_matches(pattern, text)
    head = min(stars)
    if first[:head] != second[:head]:  # the literal heads differ
        return False
    tail = min(len(first) - first.rfind("*"), len(second) - second.rfind("*")) - 1
    if tail and first[-tail:] != second[-tail:]:  # the literal tails differ
        return False
    pending, seen = [(head, head)], set()
    while pending:  # (i, j): first[:i] and second[:j] can spell the same text
        i, j = pending.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(first) or j == len(second):
            if set(first[i:] + second[j:]) <= {"*"}:
                return True
        elif first[i] == "*" or second[j] == "*":
            pending += [(i + 1, j), (i, j + 1)]
        elif first[i] == second[j]:
            pending.append((i + 1, j + 1))
    return False


def _compatible(method_a: str, method_b: str) -> bool:
    return method_a == method_b or "ANY" in (method_a, method_b)


def _extends(shorter: Route, longer: Route) -> bool:
    """True when some path of ``longer`` could have a path of ``shorter`` as a strict prefix."""
    if not _compatible(shorter.method, longer.method):
        return False
    greedy = bool(longer.ranks) and longer.ranks[-1] == 2
    fixed = longer.segments[:-1] if greedy else longer.segments
    if not greedy and len(fixed) <= len(shorter.segments):
        return False
    return all(a == b or "{" in a or "{" in b for a, b in zip(shorter.segments, fixed, strict=False))


def _needs_depth_guard(route: Route, allowed: Sequence[Route]) -> bool:
    """Whether ``route``'s ``{name}`` wildcards need a Deny for deeper paths.

    In an ARN ``*`` spans ``/``: ``GET/items/*`` (from ``/items/{id}``) also matches
    ``GET/items/1/other``. Unless an allowed route may legitimately go deeper, deny ``.../*``.
    """
    if 1 not in route.ranks or 2 in route.ranks:
        return False
    return not any(other is not route and _extends(route, other) for other in allowed)
