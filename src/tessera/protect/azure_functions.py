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

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError, Reason, TokenError
from ._signature import without_principal
from .decorator import Authorize, Platform, authorize_for
from .http import Headers, HttpRequest, HttpResponse, MultiMap
from .principal import Principal

__all__ = ["authorize", "request_from_azure", "to_azure_response"]


def request_from_azure(req: Any) -> HttpRequest:
    """The :class:`HttpRequest` of an ``azure.functions.HttpRequest``."""
    headers = Headers((str(k), str(v)) for k, v in req.headers.items())
    query = MultiMap((str(k), str(v)) for k, v in req.params.items())
    content_type = headers.get("content-type", "").lower()
    body = req.get_body() if content_type.startswith("application/x-www-form-urlencoded") else b""
    try:
        path = urlsplit(req.url).path or "/"
    except ValueError:  # a bracketed host that is not an IPv6 address
        raise TokenError(Reason.INVALID_REQUEST) from None
    return HttpRequest(req.method, path, headers, query, body or b"")


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


def _request(*args: Any, **kwargs: Any) -> HttpRequest:
    import azure.functions as func

    for value in (*args, *kwargs.values()):
        if isinstance(value, func.HttpRequest):
            return request_from_azure(value)
    raise ConfigurationError("the protected function did not receive an azure.functions.HttpRequest")


def _respond(response: HttpResponse, *args: Any, **kwargs: Any) -> Any:
    return to_azure_response(response)


def _principal_by_name(handler: Callable[..., Any], principal: Principal, args: Any, kwargs: Any) -> Any:
    return handler(*args, principal=principal, **kwargs)


def _signature(handler: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
    without_principal(handler, wrapper)


authorize: Authorize[Callable[[Callable[..., Any]], Callable[..., Any]]] = authorize_for(
    Platform(
        request=_request,
        respond=_respond,
        call=_principal_by_name,
        add_cors=_add_cors,
        async_handlers="await",
        adjust=_signature,
    ),
    module=__name__,
    doc="Protect an Azure Functions HTTP handler that takes a ``principal`` parameter.",
)
