"""API Gateway Lambda authorizers: REST TOKEN and REQUEST, and HTTP API (payload 2.0).

Cache safety (LAM-01/02): API Gateway caches the policy per token and applies it to the
caller's other requests, so the policy answers for every ARN under the ``methodArn``'s own API
and stage, and allows none that the rules do not give this caller (not even an undeclared
one). ``*`` in an ARN spans ``/``, so a rule's pattern alone would open more than the rule;
:mod:`tessera.protect.route_policy` chooses the Allow and Deny resources (one per method for
``ANY``, each ``{param}`` held to one segment, ``{proxy+}`` only where declared) and names the
rules no pattern can open exactly. A request for such a rule gets its own ARN allowed: the
cached policy is then too narrow for the caller's other ARNs of that rule, never too wide.

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
from .iam import POLICY_VERSION, parse_execute_api_arn, policy_document
from .principal import Principal
from .route_policy import rules_policy
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


def _statements(allow: Iterable[str], deny: Iterable[str]) -> _Statements:
    document = policy_document(allow, deny)
    return tuple((s["Action"], s["Effect"], tuple(s["Resource"])) for s in document["Statement"])


class _Policy:
    """One caller's policy in one API and stage, and which requests it answers as it stands.

    ``covered`` holds ``(method, id(rule))`` for the rules whose every ARN the statements
    allow; any other request gets its own ARN added (:meth:`statements_for`).
    """

    __slots__ = ("allow", "covered", "deny", "per_arn", "permitted", "statements")

    def __init__(
        self,
        allow: tuple[str, ...],
        deny: tuple[str, ...],
        covered: frozenset[Any],
        permitted: frozenset[int],
    ) -> None:
        self.allow = allow
        self.deny = deny
        self.covered = covered
        self.permitted = permitted
        self.statements = _statements(allow, deny)
        self.per_arn: dict[str, _Statements] = {}

    def statements_for(self, arn: str, route: Route | None) -> _Statements:
        """The statements with ``arn`` itself allowed (its rule is the caller's, but no pattern
        opens that rule exactly) or denied (no rule, or a rule the caller may not call)."""
        statements = self.per_arn.get(arn)
        if statements is None:
            if route is not None and id(route) in self.permitted:
                statements = _statements((*self.allow, arn), self.deny)
            else:
                statements = _statements(self.allow, (*self.deny, arn))
            if len(self.per_arn) >= MAX_CACHED_POLICIES:
                self.per_arn.clear()
            self.per_arn[arn] = statements
        return statements


class _Identity:
    """What the authorizer answers for one verified Claims object, worked out once per object.

    ``policies`` holds the caller's policy per stage prefix (see ``LambdaAuthorizer._api``).
    """

    __slots__ = ("claims", "context", "policies", "principal", "principal_id")

    def __init__(self, claims: Claims, principal: Principal, context: dict[str, Any]) -> None:
        self.claims = claims
        self.principal = principal
        self.principal_id = principal.principal_id
        self.context = context
        self.policies: dict[str, _Policy] = {}


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
        self._policies: dict[tuple[frozenset[str], frozenset[str], str], _Policy] = {}
        self._identities: dict[int, _Identity] = {}
        self._arns: dict[str, tuple[Route | None, str, tuple[str, int] | None]] = {}

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
            arn = event.get(arn_field)
            route, stage, route_key = self._api(arn)
            identity = self._identity(self.verifier.verify(extract(event)))
            if simple:
                principal = identity.principal
                allowed = route is not None and route in self.rules.allowed(principal.scopes, principal.roles)
                if not allowed:
                    _log_refusal("route_not_allowed", arn, 403)
                return {"isAuthorized": allowed, "context": identity.context.copy()}
            policy = identity.policies.get(stage)
            if policy is None:
                policy = self._policy_for(identity, stage)
                # Once per token and stage, not per call: the policy is cached from here on.
                if route is None or id(route) not in policy.permitted:
                    _log_refusal("route_not_allowed", arn, 403)
            statements = (
                policy.statements if route_key in policy.covered else policy.statements_for(str(arn), route)
            )
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
            reason = exc.reason.value if isinstance(exc, TokenError) else "malformed_event"
            _log_unauthorized(reason, event, arn_field)
            raise Unauthorized() from None
        except Exception as exc:
            logger.error("authorizer failed closed: %s", type(exc).__name__)
            _log_unauthorized("authorizer_failure", event, arn_field)
            raise Unauthorized() from None

    def _api(self, arn: Any) -> tuple[Route | None, str, tuple[str, int] | None]:
        """For a ``methodArn``/``routeArn`` (parsed strictly): the rule matching it, its stage prefix and its
        ``(method, id(rule))`` (None when no rule matches), remembered per ARN."""
        found = self._arns.get(arn) if type(arn) is str else None
        if found is None:
            api = parse_execute_api_arn(arn)
            route = self.rules.match(api.method, api.path)
            found = (route, api.stage_prefix, None if route is None else (api.method, id(route)))
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

    def _policy_for(self, identity: _Identity, stage: str) -> _Policy:
        """The policy of ``identity`` under ``stage``, computed once per distinct scopes, roles
        and stage, and remembered on the identity."""
        principal = identity.principal
        key = (principal.scopes, principal.roles, stage)
        policy = self._policies.get(key)
        if policy is None:
            permitted = self.rules.allowed(principal.scopes, principal.roles)
            planned = rules_policy(self.rules.routes, permitted)
            policy = _Policy(
                tuple(f"{stage}/{resource}" for resource in planned.allow),
                tuple(f"{stage}/{resource}" for resource in planned.deny),
                planned.covered,
                frozenset(map(id, permitted)),
            )
            if len(self._policies) >= MAX_CACHED_POLICIES:
                self._policies.clear()
            self._policies[key] = policy
        if len(identity.policies) >= MAX_CACHED_POLICIES:
            identity.policies.clear()
        identity.policies[stage] = policy
        return policy


def _log_refusal(reason: str, arn: Any, status: int) -> None:
    """The rejection line, with the route of the event's ARN when it parses."""
    try:
        api = parse_execute_api_arn(arn)
    except Exception:  # the line must never turn a refusal into something else
        log_rejection(_SOURCE, reason, status=status)
        return
    log_rejection(_SOURCE, reason, method=api.method, route=api.path, status=status)


def _log_unauthorized(reason: str, event: Any, arn_field: str) -> None:
    """The rejection line for a 401."""
    _log_refusal(reason, event.get(arn_field) if isinstance(event, Mapping) else None, 401)
