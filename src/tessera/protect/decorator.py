"""``authorize`` for handlers written against :class:`HttpRequest` / :class:`HttpResponse`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, cast, overload

from .cors import CORS
from .guard import ClaimPredicate, Guard, TokenVerifier
from .http import HttpRequest, HttpResponse
from .principal import Principal

__all__ = ["authorize", "make_guard"]

SyncHandler = Callable[[HttpRequest, Principal], HttpResponse]
AsyncHandler = Callable[[HttpRequest, Principal], Awaitable[HttpResponse]]
SyncEndpoint = Callable[[HttpRequest], HttpResponse]
AsyncEndpoint = Callable[[HttpRequest], Awaitable[HttpResponse]]


class HandlerDecorator(Protocol):
    """What :func:`authorize` returns: turns ``(request, principal)`` handlers into ``(request)`` ones."""

    @overload
    def __call__(self, handler: AsyncHandler) -> AsyncEndpoint: ...

    @overload
    def __call__(self, handler: SyncHandler) -> SyncEndpoint: ...


def make_guard(
    verifier: TokenVerifier,
    *,
    scopes: Iterable[str] = (),
    roles: Iterable[str] = (),
    require: Iterable[ClaimPredicate] = (),
    realm: str = "tessera",
    cookie: str | None = None,
    cors: CORS | None = None,
) -> Guard:
    """The :class:`Guard` every platform ``authorize`` builds from its keywords."""
    return Guard(verifier, scopes=scopes, roles=roles, require=require, realm=realm, cookie=cookie, cors=cors)


def authorize(
    verifier: TokenVerifier,
    *,
    scopes: Iterable[str] = (),
    roles: Iterable[str] = (),
    require: Iterable[ClaimPredicate] = (),
    realm: str = "tessera",
    cookie: str | None = None,
    cors: CORS | None = None,
) -> HandlerDecorator:
    """Protect ``handler(request: HttpRequest, principal: Principal) -> HttpResponse``.

    The decorated function takes only the request. Sync and ``async def`` handlers both work;
    rejections are answered by :func:`~tessera.protect.error_response`. Example::

        @authorize(verifier, scopes=["orders:read"])
        def handler(request: HttpRequest, principal: Principal) -> HttpResponse:
            return HttpResponse(200, body=principal.principal_id.encode())
    """
    guard = make_guard(
        verifier, scopes=scopes, roles=roles, require=require, realm=realm, cookie=cookie, cors=cors
    )

    def decorate(handler: SyncHandler | AsyncHandler) -> SyncEndpoint | AsyncEndpoint:
        if inspect.iscoroutinefunction(handler):
            async_handler = cast(AsyncHandler, handler)

            @functools.wraps(handler)
            async def protected_async(request: HttpRequest) -> HttpResponse:
                outcome = await guard.aadmit(request)
                if isinstance(outcome, HttpResponse):
                    return outcome
                response = await async_handler(request, outcome)
                return response.with_headers(guard.cors_headers(request))

            return protected_async

        sync_handler = cast(SyncHandler, handler)

        @functools.wraps(handler)
        def protected(request: HttpRequest) -> HttpResponse:
            outcome = guard.admit(request)
            if isinstance(outcome, HttpResponse):
                return outcome
            return sync_handler(request, outcome).with_headers(guard.cors_headers(request))

        return protected

    return cast(HandlerDecorator, decorate)
