"""Google Cloud Functions (functions-framework, and any Flask view): a Flask ``Request`` in, a
Flask response (or a ``(body, status, headers)`` tuple) out. The handler receives the principal
as a second argument::

    @functions_framework.http
    @authorize(verifier, scopes=["orders:read"])
    def orders(request: flask.Request, principal: Principal):
        return {"sub": principal.subject}

An ``async def`` handler is run to completion with :func:`asyncio.run`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .decorator import Authorize, Platform, authorize_for
from .http import Headers, HttpRequest, HttpResponse, MultiMap

__all__ = ["authorize", "request_from_flask", "to_flask_response"]

FlaskHandler = Callable[[Any, Any], Any]
FlaskView = Callable[[Any], Any]


def request_from_flask(request: Any) -> HttpRequest:
    """The :class:`HttpRequest` of a Flask/Werkzeug request (the form body stays readable)."""
    headers = Headers((str(k), str(v)) for k, v in request.headers.items())
    query = MultiMap(request.args.items(multi=True))
    body = request.get_data(cache=True) if request.mimetype == "application/x-www-form-urlencoded" else b""
    return HttpRequest(request.method, request.path, headers, query, body)


def to_flask_response(response: HttpResponse) -> tuple[bytes, int, list[tuple[str, str]]]:
    """``response`` as the ``(body, status, headers)`` tuple Flask and functions-framework accept."""
    return response.body, response.status, list(response.headers)


def _add_cors(result: Any, cors: tuple[tuple[str, str], ...]) -> Any:
    if not cors:
        return result
    from flask import make_response

    response = make_response(result)
    for name, value in cors:
        response.headers[name] = value
    return response


def _respond(response: HttpResponse, flask_request: Any) -> Any:
    return to_flask_response(response)


def _hide_wrapped(handler: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
    wrapper.__dict__.pop("__wrapped__", None)


authorize: Authorize[Callable[[FlaskHandler], FlaskView]] = authorize_for(
    Platform(request=request_from_flask, respond=_respond, add_cors=_add_cors, adjust=_hide_wrapped, arity=1),
    module=__name__,
    doc="Protect ``handler(request, principal)``; the result takes only the Flask request.",
)
