"""Azure Functions (Python, v1 and v2 programming models): ``azure.functions.HttpRequest`` in,
``azure.functions.HttpResponse`` out. ``azure.functions`` is imported only when a request is
handled. The handler receives the principal as a keyword argument; the decorated function
keeps the handler's other parameters (bindings are matched by name)::

    @app.route(route="orders")
    @authorize(verifier, scopes=["orders:read"])
    def orders(req: func.HttpRequest, principal: Principal) -> func.HttpResponse:
        return func.HttpResponse(principal.principal_id)

``async def`` handlers are supported. Azure Functions folds repeated headers into one
comma-joined value, so two Authorization headers arrive as a single invalid token (401).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ._signature import without_principal
from .cors import CORS
from .decorator import make_guard
from .guard import ClaimPredicate, Guard, TokenVerifier
from .http import Headers, HttpRequest, HttpResponse, MultiMap

__all__ = ["authorize", "request_from_azure", "to_azure_response"]


def request_from_azure(req: Any) -> HttpRequest:
    """The :class:`HttpRequest` of an ``azure.functions.HttpRequest``."""
    headers = Headers((str(k), str(v)) for k, v in req.headers.items())
    query = MultiMap((str(k), str(v)) for k, v in req.params.items())
    content_type = headers.get("content-type", "").lower()
    body = req.get_body() if content_type.startswith("application/x-www-form-urlencoded") else b""
    return HttpRequest(req.method, urlsplit(req.url).path or "/", headers, query, body or b"")


def to_azure_response(response: HttpResponse) -> Any:
    """``response`` as an ``azure.functions.HttpResponse``."""
    import azure.functions as func

    headers: dict[str, str] = {}
    for name, value in response.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return func.HttpResponse(body=response.body, status_code=response.status, headers=headers)


def _add_cors(result: Any, cors: tuple[tuple[str, str], ...]) -> Any:
    headers = getattr(result, "headers", None)
    if cors and headers is not None:
        for name, value in cors:
            headers[name] = value
    return result


def authorize(
    verifier: TokenVerifier,
    *,
    scopes: Iterable[str] = (),
    roles: Iterable[str] = (),
    require: Iterable[ClaimPredicate] = (),
    realm: str = "tessera",
    cookie: str | None = None,
    cors: CORS | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Protect an Azure Functions HTTP handler that takes a ``principal`` parameter."""
    guard = make_guard(
        verifier, scopes=scopes, roles=roles, require=require, realm=realm, cookie=cookie, cors=cors
    )

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def protected_async(*args: Any, **kwargs: Any) -> Any:
                request = _find_request(signature, args, kwargs)
                outcome = await guard.aadmit(request)
                if isinstance(outcome, HttpResponse):
                    return to_azure_response(outcome)
                return _add_cors(
                    await handler(*args, principal=outcome, **kwargs), guard.cors_headers(request)
                )

            signature = without_principal(handler, protected_async)
            return protected_async

        @functools.wraps(handler)
        def protected(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(signature, args, kwargs)
            return _run(guard, request, lambda principal: handler(*args, principal=principal, **kwargs))

        signature = without_principal(handler, protected)
        return protected

    return decorate


def _run(guard: Guard, request: HttpRequest, call: Callable[[Any], Any]) -> Any:
    outcome = guard.admit(request)
    if isinstance(outcome, HttpResponse):
        return to_azure_response(outcome)
    return _add_cors(call(outcome), guard.cors_headers(request))


def _find_request(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> HttpRequest:
    import azure.functions as func

    bound = signature.bind(*args, **kwargs)
    for value in bound.arguments.values():
        if isinstance(value, func.HttpRequest):
            return request_from_azure(value)
    raise ConfigurationError("the protected function did not receive an azure.functions.HttpRequest")
