"""The one decorator factory: a platform only translates, and every shape of wrapper decides alike."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

import pytest

from tessera.errors import Reason, TokenError
from tessera.protect import (
    CORS,
    Guard,
    GuardOptions,
    Headers,
    HttpRequest,
    HttpResponse,
    Principal,
    asgi,
    aws_lambda,
    azure_functions,
    decorator,
    gcf,
    lambda_edge,
)
from tessera.protect.decorator import Authorize, Platform, authorize_for

from .support import Api, bearer, load_event

API = Api()
ORIGIN = "https://app.example"


def _request(*args: Any, **kwargs: Any) -> HttpRequest:
    """A toy platform's call: (authorization value or None, ...); a value of "!" is malformed."""
    value = args[0] if args else kwargs["authorization"]
    if value == "!":
        raise TokenError(Reason.INVALID_REQUEST)
    headers = [("Origin", ORIGIN)] + ([("Authorization", value)] if value is not None else [])
    return HttpRequest("GET", "/", Headers(headers))


def _respond(response: HttpResponse, *args: Any, **kwargs: Any) -> tuple[int, dict[str, str]]:
    return response.status, dict(response.headers)


def _add_cors(result: Any, headers: tuple[tuple[str, str], ...]) -> Any:
    return (*result, dict(headers))


Toy = Authorize[Callable[[Callable[..., Any]], Callable[..., Any]]]


def _toy_authorize(arity: Literal[1, 2] | None) -> Toy:
    platform = Platform(request=_request, respond=_respond, add_cors=_add_cors, arity=arity)
    return authorize_for(platform, module=__name__, doc="Protect a toy handler.")


@pytest.mark.parametrize("arity", [1, 2, None])
def test_every_wrapper_shape_admits_the_genuine_token_and_refuses_the_rest(
    arity: Literal[1, 2] | None,
) -> None:
    protect = _toy_authorize(arity)(API.verifier, scopes=["orders:write"], cors=CORS(allow_origins=[ORIGIN]))
    extra = (None,) if arity == 2 else ()

    @protect
    def handler(*args: Any) -> tuple[int, str]:
        principal = args[-1]
        assert isinstance(principal, Principal)
        return 200, principal.principal_id

    ok = handler(bearer(API.token()), *extra)
    forged = handler(bearer(API.forged()), *extra)
    missing = handler(None, *extra)
    malformed = handler("!", *extra)
    read_only = handler(bearer(API.read_only()), *extra)

    assert ok[:2] == (200, "alice")
    assert (ok[2]["Access-Control-Allow-Origin"], ok[2]["Vary"]) == (ORIGIN, "Origin")
    assert forged[0] == missing[0] == 401 and read_only[0] == 403
    assert 'error="invalid_token"' in forged[1]["WWW-Authenticate"]
    assert "error=" not in missing[1]["WWW-Authenticate"]
    assert malformed[0] == 400 and "Access-Control-Allow-Origin" not in malformed[1]
    assert forged[1]["Access-Control-Allow-Origin"] == ORIGIN


def test_keyword_calls_reach_the_general_wrapper() -> None:
    @_toy_authorize(None)(API.verifier)
    def handler(*args: Any, **kwargs: Any) -> tuple[int, str]:
        return 200, kwargs["principal"].principal_id if "principal" in kwargs else args[-1].principal_id

    assert handler(authorization=bearer(API.token()))[:2] == (200, "alice")
    assert handler(authorization=bearer(API.forged()))[0] == 401


async def test_async_handlers_are_awaited_when_the_platform_awaits() -> None:
    platform = Platform(request=_request, respond=_respond, async_handlers="await")
    toy: Toy = authorize_for(platform, module=__name__, doc="")
    protect = toy(API.verifier)

    @protect
    async def handler(value: str | None, principal: Principal) -> tuple[int, str]:
        return 200, principal.principal_id

    assert inspect.iscoroutinefunction(handler)
    assert await handler(bearer(API.token())) == (200, "alice")
    assert (await handler(bearer(API.forged())))[0] == 401


def test_lambda_edge_async_handlers_run_to_completion() -> None:
    @lambda_edge.authorize(API.verifier, scopes=["orders:read"])
    async def handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
        return {"forwarded": principal.principal_id}

    event = load_event("cloudfront_viewer_request")
    request = event["Records"][0]["cf"]["request"]
    request["headers"]["authorization"] = [{"key": "Authorization", "value": bearer(API.token())}]
    assert handler(event, None) == {"forwarded": "alice"}
    request["headers"]["authorization"] = [{"key": "Authorization", "value": bearer(API.forged())}]
    assert handler(event, None)["status"] == "401"


@pytest.mark.parametrize("module", [decorator, aws_lambda, gcf, lambda_edge, azure_functions])
def test_each_platform_authorize_keeps_its_name_module_doc_and_keywords(module: Any) -> None:
    authorize = module.authorize

    assert authorize.__name__ == "authorize" and authorize.__module__ == module.__name__
    assert authorize.__doc__ and authorize.__doc__.startswith("Protect")
    _assert_guard_keywords(authorize)


@pytest.mark.parametrize("function", [asgi.authorize, lambda_edge.viewer_request])
def test_other_guard_factories_show_and_check_the_same_keywords(function: Any) -> None:
    _assert_guard_keywords(function)


def test_guard_options_name_exactly_the_guard_keywords() -> None:
    keywords = [n for n in inspect.signature(Guard).parameters if n != "verifier"]
    assert list(GuardOptions.__annotations__) == keywords


def _assert_guard_keywords(function: Callable[..., Any]) -> None:
    parameters = inspect.signature(function).parameters
    assert list(parameters) == ["verifier", "scopes", "roles", "require", "realm", "cookie", "cors", "header"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for n, p in parameters.items() if n != "verifier")
    assert parameters["realm"].default == "tessera" and parameters["scopes"].default == ()
    with pytest.raises(TypeError):
        function(API.verifier, audience="orders-api")
    function(API.verifier, scopes=["orders:read"], realm="orders")  # the genuine keywords work


def test_a_platform_decorator_reads_a_front_door_header_and_only_that() -> None:
    @aws_lambda.authorize(API.verifier, header="x-token", scopes=["orders:read"])
    def handler(event: dict[str, Any], context: object, principal: Principal) -> dict[str, Any]:
        return {"statusCode": 200, "body": principal.principal_id}

    def event(**headers: str) -> dict[str, Any]:
        shaped = load_event("http_v2")
        shaped["headers"] = {"host": "api.example", **headers}
        return shaped

    assert handler(event(**{"x-token": API.token()}), None) == {"statusCode": 200, "body": "alice"}
    assert handler(event(**{"x-token": API.forged()}), None)["statusCode"] == 401
    assert handler(event(authorization=bearer(API.token())), None)["statusCode"] == 401
