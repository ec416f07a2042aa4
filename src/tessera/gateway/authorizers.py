"""Lambda authorizers run the way API Gateway runs them, result cache included.

The cache is API Gateway's: one per authorizer, keyed on the identity-source values only (not
on the route, unless the route is itself an identity source), entries kept for the TTL. A
cached IAM policy is evaluated again against each new call's ``methodArn``, so an authorizer
whose policy covers only the first route denies the user's other routes until the TTL ends
and one that answers ``Resource: "*"`` lets the cached Allow through everywhere (LAM-01). A
cached simple response (``isAuthorized``) is reused as is on every route (LAM-04).
Only policy and simple responses are cached; ``Unauthorized`` and errors are not.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import AuthorizerSpec, GatewayRoute
from .events import EventContext, build_event, method_arn, v2_headers, v2_query, v2_request_context
from .invoke import Invoker
from .policy import Decision, PolicyError, evaluate_policy
from .request import IncomingRequest
from .responses import GatewayResponse, gateway_error

__all__ = ["AuthorizerCache", "AuthorizerOutcome", "AuthorizerRunner"]

MAX_CACHE_ENTRIES = 10_000
_UNAUTHORIZED = gateway_error(401, "Unauthorized", kind="UNAUTHORIZED")
_FORBIDDEN_V2 = gateway_error(403, "Forbidden", kind="ACCESS_DENIED")
_EXPLICIT_DENY = gateway_error(
    403,
    "User is not authorized to access this resource with an explicit deny",
    key="Message",
    kind="ACCESS_DENIED",
)
_IMPLICIT_DENY = gateway_error(
    403, "User is not authorized to access this resource", key="Message", kind="ACCESS_DENIED"
)


@dataclass(frozen=True)
class AuthorizerOutcome:
    """Either a response that ends the request, or what goes into ``requestContext.authorizer``."""

    response: GatewayResponse | None
    authorizer_context: dict[str, Any] | None
    cache_hit: bool


class AuthorizerCache:
    """A bounded TTL cache of authorizer answers, keyed on (authorizer, identity values)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: OrderedDict[tuple[str, tuple[str, ...]], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, tuple[str, ...]]) -> Any | None:
        """The cached answer for ``key`` if it has not expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: tuple[str, tuple[str, ...]], answer: Any, ttl_seconds: int) -> None:
        """Remember ``answer`` for ``ttl_seconds``."""
        with self._lock:
            self._entries[key] = (self._clock() + ttl_seconds, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_CACHE_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (API Gateway's "flush authorizer cache")."""
        with self._lock:
            self._entries.clear()


def _context_variable(name: str, request: IncomingRequest, route: GatewayRoute) -> str | None:
    values = {
        "httpMethod": request.method,
        "routeKey": route.key.text,
        "resourcePath": route.key.resource,
        "path": request.path,
        "identity.sourceIp": request.source_ip,
    }
    return values.get(name)


def identity_values(spec: AuthorizerSpec, request: IncomingRequest, route: GatewayRoute) -> list[str | None]:
    """The value of each identity source for this request (None when absent or empty)."""
    resolved: list[str | None] = []
    for source in spec.identity_sources:
        name = source.removeprefix("$").removeprefix("method.")
        value: str | None = None
        if name.startswith("request.header."):
            value = request.header(name.removeprefix("request.header."))
        elif name.startswith("request.querystring."):
            wanted = name.removeprefix("request.querystring.")
            found = [v for k, v in request.query if k == wanted]
            value = ",".join(found) if found else None
        elif name.startswith("context."):
            value = _context_variable(name.removeprefix("context."), request, route)
        resolved.append(value or None)
    return resolved


def _is_flat(context: Any) -> bool:
    return isinstance(context, Mapping) and all(
        isinstance(v, str | int | float | bool) or v is None for v in context.values()
    )


class AuthorizerRunner:
    """Runs a route's authorizer (through the cache) and decides whether the call may proceed."""

    def __init__(self, invoker: Invoker, clock: Callable[[], float] = time.time) -> None:
        self._invoker = invoker
        self.cache = AuthorizerCache(clock)
        self.invocations = 0
        self._count_lock = threading.Lock()

    def _event(
        self,
        spec: AuthorizerSpec,
        request: IncomingRequest,
        route: GatewayRoute,
        params: Mapping[str, str],
        ctx: EventContext,
        *,
        identity: list[str],
    ) -> dict[str, Any]:
        arn = method_arn(ctx.api, route.payload_version, request.method, request.path)
        if spec.type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        if spec.type == "REQUEST":
            event = build_event(request, route, params, ctx)
            event.pop("body", None)
            event.pop("isBase64Encoded", None)
            return {"type": "REQUEST", "methodArn": arn, **event}
        event = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": arn,
            "identitySource": identity,
            "routeKey": route.key.text,
            "rawPath": request.path,
            "rawQueryString": request.raw_query,
            "cookies": request.cookies,
            "headers": v2_headers(request),
            "queryStringParameters": v2_query(request),
            "requestContext": v2_request_context(request, route, ctx),
            "pathParameters": dict(params),
            "stageVariables": {},
        }
        return event

    def authorize(
        self,
        request: IncomingRequest,
        route: GatewayRoute,
        params: Mapping[str, str],
        ctx: EventContext,
    ) -> AuthorizerOutcome:
        """Run (or reuse) the authorizer for this call and apply its answer to this route."""
        spec = route.authorizer
        if spec is None:
            return AuthorizerOutcome(None, None, cache_hit=False)
        identity = identity_values(spec, request, route)
        if any(v is None for v in identity) and (spec.type != "REQUEST" or spec.ttl_seconds > 0):
            return AuthorizerOutcome(_UNAUTHORIZED, None, cache_hit=False)  # authorizer not invoked
        present = [v for v in identity if v is not None]
        key = (spec.name, tuple(present))
        answer = self.cache.get(key) if spec.ttl_seconds > 0 else None
        cache_hit = answer is not None
        if answer is None:
            with self._count_lock:
                self.invocations += 1
            event = self._event(spec, request, route, params, ctx, identity=present)
            result = self._invoker.invoke(spec.handler, event)
            if result.failed:
                if result.error_message == "Unauthorized":
                    return AuthorizerOutcome(_UNAUTHORIZED, None, cache_hit=False)
                return AuthorizerOutcome(
                    self._server_error(spec, "AUTHORIZER_FAILURE"), None, cache_hit=False
                )
            answer = result.payload
            if not self._well_formed(spec, answer):
                return AuthorizerOutcome(self._server_error(spec), None, cache_hit=False)
            if spec.ttl_seconds > 0:
                self.cache.put(key, answer, spec.ttl_seconds)
        arn = method_arn(ctx.api, route.payload_version, request.method, request.path)
        return self._apply(spec, answer, arn, cache_hit)

    @staticmethod
    def _server_error(spec: AuthorizerSpec, kind: str = "AUTHORIZER_CONFIGURATION_ERROR") -> GatewayResponse:
        return gateway_error(500, None if spec.type != "HTTP" else "Internal Server Error", kind=kind)

    @staticmethod
    def _well_formed(spec: AuthorizerSpec, answer: Any) -> bool:
        if not isinstance(answer, Mapping):
            return False
        context = answer.get("context", {})
        if context is not None and not isinstance(context, Mapping):
            return False
        if spec.simple_responses:
            return isinstance(answer.get("isAuthorized"), bool)
        if spec.type != "HTTP" and not _is_flat(context or {}):
            return False  # API Gateway: AuthorizerConfigurationException (LAM-07)
        return isinstance(answer.get("principalId"), str) and "policyDocument" in answer

    def _apply(
        self, spec: AuthorizerSpec, answer: Mapping[str, Any], arn: str, hit: bool
    ) -> AuthorizerOutcome:
        context = dict(answer.get("context") or {})
        if spec.simple_responses:
            if answer["isAuthorized"] is not True:
                return AuthorizerOutcome(_FORBIDDEN_V2, None, hit)
            return AuthorizerOutcome(None, {"lambda": context}, hit)
        try:
            decision = evaluate_policy(answer["policyDocument"], arn)
        except PolicyError:
            return AuthorizerOutcome(self._server_error(spec), None, hit)
        if decision is not Decision.ALLOW:
            if spec.type == "HTTP":
                return AuthorizerOutcome(_FORBIDDEN_V2, None, hit)
            denied = _EXPLICIT_DENY if decision is Decision.EXPLICIT_DENY else _IMPLICIT_DENY
            return AuthorizerOutcome(denied, {"principalId": answer["principalId"], **context}, hit)
        if spec.type == "HTTP":
            return AuthorizerOutcome(None, {"lambda": context}, hit)
        return AuthorizerOutcome(None, {"principalId": answer["principalId"], **context}, hit)
