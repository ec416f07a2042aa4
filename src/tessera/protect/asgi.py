"""ASGI: a middleware for any ASGI app, and an endpoint decorator for Starlette and FastAPI.

``AuthorizeMiddleware(app, guard=guard)`` protects every HTTP request and every WebSocket
handshake, and passes ``lifespan`` through untouched. The principal travels in a copy of the
scope, under ``"tessera.principal"``; read it with :func:`get_principal`.

``authorize(verifier, ...)`` protects one endpoint and passes the principal explicitly:

- Starlette: ``async def endpoint(request: Request, principal: Principal) -> Response``;
- FastAPI: any path operation with a parameter named ``principal``; the decorator hides it
  from FastAPI's dependency resolution and fills it in.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeVar, Unpack, cast

from ..errors import ConfigurationError
from .guard import Guard, GuardOptions, TokenVerifier, with_guard_signature
from .http import Headers, HttpRequest, HttpResponse, parse_query
from .openapi import SECURITY_PARAMETER, security_parameter
from .principal import Principal

__all__ = ["PRINCIPAL_KEY", "AuthorizeMiddleware", "authorize", "get_principal", "request_from_scope"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
F = TypeVar("F", bound=Callable[..., Any])

PRINCIPAL_KEY = "tessera.principal"
_POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1
DEFAULT_MAX_FORM_BYTES = 1 << 20


def request_from_scope(scope: Mapping[str, Any], body: bytes = b"") -> HttpRequest:
    """The :class:`HttpRequest` of an ASGI HTTP ``scope`` (headers as latin-1, RFC 9110)."""
    headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ()))
    query = parse_query(scope.get("query_string", b"").decode("latin-1"))
    return HttpRequest(scope.get("method", "GET"), scope.get("path", "/"), headers, query, body)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def send_response(send: Send, response: HttpResponse, *, kind: str = "http") -> None:
    """Send ``response`` through an ASGI ``send`` callable (``kind="websocket.http"`` answers a
    WebSocket handshake, with the ``websocket.http.response`` extension)."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": f"{kind}.response.start", "status": response.status, "headers": headers})
    await send({"type": f"{kind}.response.body", "body": response.body})


class AuthorizeMiddleware:
    """Protect every HTTP request of an ASGI app with ``guard``.

    Form-encoded bodies (at most ``max_form_bytes``) are read first, to refuse a token sent both
    in the header and in the body (RFC 6750 §2), and then replayed to the app. Example::

        app = AuthorizeMiddleware(app, guard=Guard(verifier, scopes=["orders:read"]))
    """

    def __init__(self, app: ASGIApp, *, guard: Guard, max_form_bytes: int = DEFAULT_MAX_FORM_BYTES) -> None:
        if not isinstance(guard, Guard):
            raise ConfigurationError("guard must be a tessera.protect.Guard")
        self.app = app
        self.guard = guard
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._handshake(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = request_from_scope(scope)
        if request.body_is_form and request.method.upper() not in ("GET", "HEAD"):
            body, complete = await _read_body(receive, self.max_form_bytes)
            if not complete:
                await send_response(send, HttpResponse(413, (("Cache-Control", "no-store"),)))
                return
            request = request_from_scope(scope, body)
            receive = _replay(body, receive)
        outcome = await self.guard.aadmit(request)
        if isinstance(outcome, HttpResponse):
            await send_response(send, outcome)
            return
        cors = self.guard.cors_headers(request)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", ()),
                    *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in cors),
                ]
            await send(message)

        await self.app({**scope, PRINCIPAL_KEY: outcome}, receive, send_with_cors)

    async def _handshake(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit a WebSocket handshake like a GET, or refuse it before the app sees it.

        The refusal is the RFC 6750 response itself where the server supports the
        ``websocket.http.response`` extension, else a close before accept (HTTP 403).
        """
        outcome = await self.guard.aadmit(request_from_scope({**scope, "method": "GET"}))
        if not isinstance(outcome, HttpResponse):
            await self.app({**scope, PRINCIPAL_KEY: outcome}, receive, send)
            return
        if "websocket.http.response" in (scope.get("extensions") or {}):
            await send_response(send, outcome, kind="websocket.http")
        else:
            await send({"type": "websocket.close", "code": _POLICY_VIOLATION})


def get_principal(request: Any) -> Principal:
    """The principal of a request behind :class:`AuthorizeMiddleware` (a Request or a scope)."""
    scope = getattr(request, "scope", request)
    principal = scope.get(PRINCIPAL_KEY) if isinstance(scope, Mapping) else None
    if not isinstance(principal, Principal):
        raise ConfigurationError("no principal: the endpoint is not behind AuthorizeMiddleware")
    return principal


@with_guard_signature
def authorize(verifier: TokenVerifier, **options: Unpack[GuardOptions]) -> Callable[[F], F]:
    """Protect a Starlette endpoint or a FastAPI path operation (see the module docstring).

    The keywords are :class:`~tessera.protect.Guard`'s: ``scopes``, ``roles``, ``require``,
    ``realm``, ``cookie``, ``cors`` and ``header``.
    """
    guard = Guard(verifier, **options)

    def decorate(endpoint: F) -> F:
        from starlette.requests import Request

        signature = inspect.signature(endpoint, eval_str=True)
        if "principal" not in signature.parameters:
            raise ConfigurationError("a protected endpoint takes a 'principal' parameter")
        params = [p for name, p in signature.parameters.items() if name != "principal"]
        request_name = next((p.name for p in params if p.name == "request" or p.annotation is Request), None)
        call = endpoint if inspect.iscoroutinefunction(endpoint) else _threaded(endpoint)

        @functools.wraps(endpoint)
        async def protected(*args: Any, **kwargs: Any) -> Any:
            bound = inspect.signature(protected).bind(*args, **kwargs)
            request = bound.arguments[request_name or "request"]
            if not isinstance(request, Request):
                raise ConfigurationError("the protected endpoint did not receive a Request")
            outcome = await guard.aadmit(request_from_scope(request.scope, await _form_body(request)))
            if isinstance(outcome, HttpResponse):
                return _starlette_response(outcome)
            if request_name is None:
                bound.arguments.pop("request")
            bound.arguments.pop(SECURITY_PARAMETER, None)
            positional, named = _split(bound)
            result = await call(*positional, **named, principal=outcome)
            return _with_cors(result, guard.cors_headers(request_from_scope(request.scope)))

        if request_name is None:
            extra = inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)
            params.append(extra)
        security = security_parameter(guard)
        if security is not None and SECURITY_PARAMETER not in signature.parameters:
            params.append(security)
        cast(Any, protected).__signature__ = signature.replace(parameters=_ordered(params))
        del cast(Any, protected).__wrapped__
        return cast(F, protected)

    return decorate


def _split(bound: inspect.BoundArguments) -> tuple[list[Any], dict[str, Any]]:
    """Positional-only and ``*args`` values stay positional; everything else goes by name."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            kwargs.update(value)
        else:
            kwargs[name] = value
    return args, kwargs


def _ordered(params: list[inspect.Parameter]) -> list[inspect.Parameter]:
    return sorted(params, key=lambda p: p.kind)


async def _form_body(request: Any) -> bytes:
    content_type = request.headers.get("content-type", "")
    if request.method in ("GET", "HEAD") or not content_type.lower().startswith(
        "application/x-www-form-urlencoded"
    ):
        return b""
    body: bytes = await request.body()
    return body


def _threaded(endpoint: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


def _starlette_response(response: HttpResponse) -> Any:
    from starlette.responses import Response

    result = Response(response.body, status_code=response.status)
    for name, value in response.headers:
        if name.lower() == "content-type":
            result.headers["content-type"] = value
        else:
            result.headers.append(name, value)
    return result


def _with_cors(result: Any, cors: tuple[tuple[str, str], ...]) -> Any:
    from starlette.responses import Response

    if cors and isinstance(result, Response):
        for name, value in cors:
            result.headers.append(name, value)
    return result
