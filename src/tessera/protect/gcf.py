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

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from .cors import CORS
from .decorator import make_guard
from .guard import ClaimPredicate, TokenVerifier
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


def authorize(
    verifier: TokenVerifier,
    *,
    scopes: Iterable[str] = (),
    roles: Iterable[str] = (),
    require: Iterable[ClaimPredicate] = (),
    realm: str = "tessera",
    cookie: str | None = None,
    cors: CORS | None = None,
) -> Callable[[FlaskHandler], FlaskView]:
    """Protect ``handler(request, principal)``; the result takes only the Flask request."""
    guard = make_guard(
        verifier, scopes=scopes, roles=roles, require=require, realm=realm, cookie=cookie, cors=cors
    )

    def decorate(handler: FlaskHandler) -> FlaskView:
        run = handler
        if inspect.iscoroutinefunction(handler):

            def run(flask_request: Any, principal: Any) -> Any:
                import asyncio  # only for async handlers: keeps it off the cold-start path

                return asyncio.run(handler(flask_request, principal))

        @functools.wraps(handler)
        def protected(flask_request: Any) -> Any:
            request = request_from_flask(flask_request)
            outcome = guard.admit(request)
            if isinstance(outcome, HttpResponse):
                return to_flask_response(outcome)
            return _add_cors(run(flask_request, outcome), guard.cors_headers(request))

        protected.__dict__.pop("__wrapped__", None)
        return protected

    return decorate
