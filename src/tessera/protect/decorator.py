"""The one decorator factory every platform's ``authorize`` is made with, and the generic one.

A platform says only how to translate: the :class:`HttpRequest` its call describes, its form
of a rejection, how the principal is handed to the handler, and how CORS headers join the
handler's result (:class:`Platform`). :func:`authorize_for` turns that into an ``authorize``
with the same keywords everywhere. The generic :func:`authorize` here protects handlers
written against :class:`HttpRequest` / :class:`HttpResponse`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, Unpack, overload

from ..errors import TokenError
from .guard import Guard, GuardOptions, TokenVerifier, with_guard_signature
from .http import HttpRequest, HttpResponse
from .principal import Principal

__all__ = ["Authorize", "Platform", "authorize", "authorize_for"]

SyncHandler = Callable[[HttpRequest, Principal], HttpResponse]
AsyncHandler = Callable[[HttpRequest, Principal], Awaitable[HttpResponse]]
SyncEndpoint = Callable[[HttpRequest], HttpResponse]
AsyncEndpoint = Callable[[HttpRequest], Awaitable[HttpResponse]]
CORSHeaders = tuple[tuple[str, str], ...]
Decorator_co = TypeVar("Decorator_co", covariant=True)


class HandlerDecorator(Protocol):
    """What :func:`authorize` returns: turns ``(request, principal)`` handlers into ``(request)`` ones."""

    @overload
    def __call__(self, handler: AsyncHandler) -> AsyncEndpoint: ...

    @overload
    def __call__(self, handler: SyncHandler) -> SyncEndpoint: ...


class Authorize(Protocol[Decorator_co]):
    """The shape of every platform's ``authorize``: a verifier and requirements in, a decorator out."""

    def __call__(self, verifier: TokenVerifier, **options: Unpack[GuardOptions]) -> Decorator_co:
        """Build the guard for these requirements and return the decorator that applies it."""
        ...


@dataclass(frozen=True, slots=True)
class Platform:
    """How one platform calls a protected function, and how it must be answered.

    ``request(*args, **kwargs)`` is the :class:`HttpRequest` the platform's call describes; it
    raises :class:`TokenError` for a malformed one (answered 400). ``respond(response, *args,
    **kwargs)`` is a rejection in the platform's own form. ``call(handler, principal, args,
    kwargs)`` runs the handler (None, the default: the principal is the last positional argument).
    ``add_cors(result, headers)`` adds CORS headers to the handler's result (None: the result
    is returned as it is). An ``async def`` handler gets an ``async def`` wrapper when
    ``async_handlers`` is ``"await"``, or is run with :func:`asyncio.run` inside the sync
    wrapper when it is ``"run"`` (runtimes that call handlers synchronously). ``adjust(handler,
    wrapper)`` is a last touch to the wrapper (its signature, say). ``arity`` says how many
    positional arguments the platform always passes (1 or 2) and no keywords, which gets a
    wrapper without ``*args``/``**kwargs`` forwarding (about 2 µs less per call); None means any.
    """

    request: Callable[..., HttpRequest]
    respond: Callable[..., Any]
    call: Callable[[Callable[..., Any], Principal, Any, Any], Any] | None = None
    add_cors: Callable[[Any, CORSHeaders], Any] | None = None
    async_handlers: Literal["await", "run"] = "run"
    adjust: Callable[[Callable[..., Any], Callable[..., Any]], None] | None = None
    arity: Literal[1, 2] | None = None


def authorize_for(platform: Platform, *, module: str, doc: str) -> Authorize[Any]:
    """The ``authorize`` decorator factory of ``platform`` (``module`` and ``doc`` name and describe it)."""

    def authorize(
        verifier: TokenVerifier, **options: Unpack[GuardOptions]
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        guard = Guard(verifier, **options)

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            if not inspect.iscoroutinefunction(handler):
                protected = _sync_wrapper(guard, platform, handler)
            elif platform.async_handlers == "await":
                protected = _async_wrapper(guard, platform, handler)
            else:
                protected = _sync_wrapper(guard, platform, _in_event_loop(handler))
            functools.update_wrapper(protected, handler)
            if platform.adjust is not None:
                platform.adjust(handler, protected)
            return protected

        return decorate

    authorize.__module__ = module
    authorize.__doc__ = doc
    return with_guard_signature(authorize)


def _sync_wrapper(guard: Guard, platform: Platform, handler: Callable[..., Any]) -> Callable[..., Any]:
    if platform.call is None and platform.arity == 2:
        return _two_argument_wrapper(guard, platform, handler)
    if platform.call is None and platform.arity == 1:
        return _one_argument_wrapper(guard, platform, handler)
    to_request, respond, call = platform.request, platform.respond, platform.call
    add_cors = platform.add_cors if guard.cors is not None else None

    def protected(*args: Any, **kwargs: Any) -> Any:
        try:
            request = to_request(*args, **kwargs)
        except TokenError as error:
            return respond(guard.error_response(error), *args, **kwargs)
        outcome = guard.admit(request)
        if isinstance(outcome, HttpResponse):
            return respond(outcome, *args, **kwargs)
        result = handler(*args, outcome, **kwargs) if call is None else call(handler, outcome, args, kwargs)
        return result if add_cors is None else add_cors(result, guard.cors_headers(request))

    return protected


def _two_argument_wrapper(
    guard: Guard, platform: Platform, handler: Callable[..., Any]
) -> Callable[..., Any]:
    """:func:`_sync_wrapper` for ``(event, context)`` entry points, without argument forwarding."""
    to_request, respond = platform.request, platform.respond
    add_cors = platform.add_cors if guard.cors is not None else None

    def protected(first: Any, second: Any) -> Any:
        try:
            request = to_request(first, second)
        except TokenError as error:
            return respond(guard.error_response(error), first, second)
        outcome = guard.admit(request)
        if isinstance(outcome, HttpResponse):
            return respond(outcome, first, second)
        result = handler(first, second, outcome)
        return result if add_cors is None else add_cors(result, guard.cors_headers(request))

    return protected


def _one_argument_wrapper(
    guard: Guard, platform: Platform, handler: Callable[..., Any]
) -> Callable[..., Any]:
    """:func:`_sync_wrapper` for ``(request)`` entry points, without argument forwarding."""
    to_request, respond = platform.request, platform.respond
    add_cors = platform.add_cors if guard.cors is not None else None

    def protected(first: Any) -> Any:
        try:
            request = to_request(first)
        except TokenError as error:
            return respond(guard.error_response(error), first)
        outcome = guard.admit(request)
        if isinstance(outcome, HttpResponse):
            return respond(outcome, first)
        result = handler(first, outcome)
        return result if add_cors is None else add_cors(result, guard.cors_headers(request))

    return protected


def _async_wrapper(guard: Guard, platform: Platform, handler: Callable[..., Any]) -> Callable[..., Any]:
    to_request, respond, call = platform.request, platform.respond, platform.call
    add_cors = platform.add_cors if guard.cors is not None else None

    async def protected(*args: Any, **kwargs: Any) -> Any:
        try:
            request = to_request(*args, **kwargs)
        except TokenError as error:
            return respond(guard.error_response(error), *args, **kwargs)
        outcome = await guard.aadmit(request)
        if isinstance(outcome, HttpResponse):
            return respond(outcome, *args, **kwargs)
        if call is None:
            result = await handler(*args, outcome, **kwargs)
        else:
            result = await call(handler, outcome, args, kwargs)
        return result if add_cors is None else add_cors(result, guard.cors_headers(request))

    return protected


def _in_event_loop(handler: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        import asyncio  # only for async handlers: keeps it off the cold-start path

        return asyncio.run(handler(*args, **kwargs))

    return run


def _with_cors_headers(response: HttpResponse, headers: CORSHeaders) -> HttpResponse:
    return response.with_headers(headers)


_HTTP = Platform(
    request=lambda request: request,
    respond=lambda response, request: response,
    add_cors=_with_cors_headers,
    async_handlers="await",
    arity=1,
)

authorize: Authorize[HandlerDecorator] = authorize_for(
    _HTTP,
    module=__name__,
    doc="""Protect ``handler(request: HttpRequest, principal: Principal) -> HttpResponse``.

    The decorated function takes only the request. Sync and ``async def`` handlers both work;
    rejections are answered by :func:`~tessera.protect.error_response`. Example::

        @authorize(verifier, scopes=["orders:read"])
        def handler(request: HttpRequest, principal: Principal) -> HttpResponse:
            return HttpResponse(200, body=principal.principal_id.encode())
    """,
)
