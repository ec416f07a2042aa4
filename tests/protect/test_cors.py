"""CORS on protected endpoints: exact origins only, on errors too (WEB-11, WEB-12, WEB-13)."""

from __future__ import annotations

import pytest

from tessera.protect import CORS, Guard, Headers, HttpRequest, HttpResponse, Principal, authorize

from .support import Api, bearer

API = Api()
APP = "https://app.example"


def with_origin(origin: str, *headers: tuple[str, str], method: str = "GET") -> HttpRequest:
    return HttpRequest(method, "/orders", Headers([("Origin", origin), *headers]))


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://app.example.evil.com",
        "https://evilapp.example",
        "https://app.example%60.evil.com",
        "http://app.example",
        "https://app.example:444",
    ],
)
def test_web12_loosely_matching_origins_get_no_cors_headers(origin: str) -> None:
    guard = Guard(API.verifier, cors=CORS(allow_origins=[APP], allow_credentials=True))

    rejected = guard.admit(with_origin(origin))
    allowed = guard.admit(with_origin(APP))

    assert isinstance(rejected, HttpResponse) and isinstance(allowed, HttpResponse)
    assert rejected.header("Access-Control-Allow-Origin") is None
    assert rejected.header("Access-Control-Allow-Credentials") is None
    assert rejected.header("Vary") == "Origin"
    assert allowed.header("Access-Control-Allow-Origin") == APP
    assert allowed.header("Access-Control-Allow-Credentials") == "true"
    assert allowed.header("Vary") == "Origin"


def test_cors_headers_are_on_errors_and_on_success() -> None:
    cors = CORS(allow_origins=[APP])

    @authorize(API.verifier, cors=cors)
    def handler(req: HttpRequest, principal: Principal) -> HttpResponse:
        return HttpResponse(200)

    error = handler(with_origin(APP))
    ok = handler(with_origin(APP, ("Authorization", bearer(API.token()))))

    assert error.status == 401 and error.header("Access-Control-Allow-Origin") == APP
    assert error.header("Access-Control-Expose-Headers") == "www-authenticate"
    assert ok.status == 200 and ok.header("Access-Control-Allow-Origin") == APP


def test_web11_wildcard_origin_never_comes_with_credentials() -> None:
    guard = Guard(API.verifier, cors=CORS(allow_origins=["*"]))

    response = guard.admit(with_origin("https://x.example"))

    assert isinstance(response, HttpResponse)
    assert response.header("Access-Control-Allow-Origin") == "*"
    assert response.header("Access-Control-Allow-Credentials") is None


def test_web13_preflight_allows_only_configured_methods_and_headers() -> None:
    guard = Guard(API.verifier, cors=CORS(allow_origins=[APP], allow_methods=["GET"], max_age_seconds=300))
    evil = guard.admit(
        with_origin(
            APP,
            ("Access-Control-Request-Method", "DELETE"),
            ("Access-Control-Request-Headers", "X-Evil"),
            method="OPTIONS",
        )
    )
    fine = guard.admit(
        with_origin(
            APP,
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "Authorization"),
            method="OPTIONS",
        )
    )

    assert isinstance(evil, HttpResponse) and isinstance(fine, HttpResponse)
    assert evil.header("Access-Control-Allow-Methods") is None
    assert evil.header("Access-Control-Allow-Origin") is None
    assert fine.status == 204
    assert fine.header("Access-Control-Allow-Methods") == "GET"
    assert fine.header("Access-Control-Allow-Origin") == APP
    assert int(str(fine.header("Access-Control-Max-Age"))) <= 600


def test_web13_max_age_above_600_is_refused() -> None:
    from tessera import ConfigurationError

    with pytest.raises(ConfigurationError):
        CORS(allow_origins=[APP], max_age_seconds=3600)
    with pytest.raises(ConfigurationError):
        CORS(allow_origins=["https://app.example/path"])
