"""The fetch rules, with the real UrllibFetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tessera.testing import LocalHTTPServer, Response
from tessera.verify.discovery import max_age
from tessera.verify.fetch import FetchError, FetchFailure, FetchResult, UrllibFetcher, check_url, safe_url


def get(url: str, *, timeout_seconds: float = 1.5, max_bytes: int = 65536) -> FetchResult:
    """One GET through the real urllib fetcher with the default limits."""
    return UrllibFetcher().fetch(url, timeout_seconds=timeout_seconds, max_bytes=max_bytes)


def test_fetch_returns_status_lowercased_headers_and_body(http_server: LocalHTTPServer) -> None:
    http_server.routes["/doc"] = Response.json({"keys": []}, headers={"Cache-Control": "max-age=120"})

    result = get(f"{http_server.url}/doc")

    assert result.status == 200
    assert result.headers["cache-control"] == "max-age=120"
    assert result.headers["content-type"] == "application/json"
    assert result.body == b'{"keys": []}'
    assert http_server.count("/doc") == 1


def test_error_status_is_returned_not_raised(http_server: LocalHTTPServer) -> None:
    http_server.routes["/down"] = Response(500, b"oops")

    result = get(f"{http_server.url}/down")

    assert (result.status, result.body) == (500, b"oops")


def test_ver60_redirect_is_not_followed(http_server: LocalHTTPServer) -> None:
    http_server.routes["/jwks"] = Response(302, b"", {"Location": f"{http_server.url}/elsewhere"})
    http_server.routes["/elsewhere"] = Response.json({"keys": []})

    with pytest.raises(FetchError) as caught:
        get(f"{http_server.url}/jwks")

    assert caught.value.failure is FetchFailure.REDIRECT
    assert http_server.count("/jwks") == 1
    assert http_server.count("/elsewhere") == 0
    assert get(f"{http_server.url}/elsewhere").status == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.2.10/jwks",  # plain http to a non-loopback host (TEST-NET-1: never answers)
        "http://issuer.example.com/jwks",
        "file:///etc/passwd",
        "ftp://127.0.0.1/jwks",
        "gopher://127.0.0.1/",
        "https://issuer.example.com@127.0.0.1/jwks",  # user info: which host is meant is a trick
        "http://user:pw@127.0.0.1/jwks",
        "https:///no-host",
        "https://127.0.0.1:99999/jwks",
        "jwks.json",
    ],
)
def test_ver60_refused_urls_fail_before_any_connection(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert caught.value.failure is FetchFailure.URL_REFUSED
    with pytest.raises(FetchError) as fetched:
        get(url)
    assert fetched.value.failure is FetchFailure.URL_REFUSED


@pytest.mark.parametrize(
    "url",
    [
        "https://issuer.example.com/.well-known/jwks.json",
        "https://192.0.2.10:8443/jwks",
        "http://127.0.0.1:8080/jwks",
        "http://127.1.2.3/jwks",
        "http://localhost:9000/jwks",
        "http://[::1]:9000/jwks",
    ],
)
def test_https_anywhere_and_http_on_loopback_are_allowed(url: str) -> None:
    assert check_url(url) == url


def test_lam10_slow_server_times_out_instead_of_hanging(http_server: LocalHTTPServer) -> None:
    http_server.routes["/slow"] = Response.json({"keys": []})._replace(delay_seconds=3.0)
    http_server.routes["/fast"] = Response.json({"keys": []})

    with pytest.raises(FetchError) as caught:
        UrllibFetcher().fetch(f"{http_server.url}/slow", timeout_seconds=0.2, max_bytes=65536)

    assert caught.value.failure is FetchFailure.TIMEOUT
    assert (
        UrllibFetcher().fetch(f"{http_server.url}/fast", timeout_seconds=1.5, max_bytes=65536).status == 200
    )


def test_ver59_body_over_the_cap_is_an_error_not_a_truncation(http_server: LocalHTTPServer) -> None:
    http_server.routes["/huge"] = Response(200, b"x" * (5 * 1024 * 1024))
    http_server.routes["/exact"] = Response(200, b"y" * 65536)

    with pytest.raises(FetchError) as caught:
        get(f"{http_server.url}/huge")

    assert caught.value.failure is FetchFailure.TOO_LARGE
    assert len(get(f"{http_server.url}/exact").body) == 65536


def test_unreachable_loopback_port_is_a_network_error() -> None:
    with LocalHTTPServer() as server:
        url = f"{server.url}/jwks"
    with pytest.raises(FetchError) as caught:
        get(url)
    assert caught.value.failure is FetchFailure.NETWORK


def test_error_messages_never_carry_query_or_user_info(http_server: LocalHTTPServer) -> None:
    http_server.routes["/jwks"] = Response(302, b"", {"Location": "/x"})

    with pytest.raises(FetchError) as caught:
        get(f"{http_server.url}/jwks?api_key=s3cr3t#frag")
    with pytest.raises(FetchError) as refused:
        check_url("https://admin:hunter2@issuer.example.com/jwks?token=abc")

    assert "s3cr3t" not in str(caught.value)
    assert "frag" not in str(caught.value)
    assert f"{http_server.url}/jwks" in str(caught.value)
    assert "hunter2" not in str(refused.value)
    assert "token=abc" not in str(refused.value)
    assert safe_url("https://a:b@h.example:444/p?q=1#f") == "https://h.example:444/p"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=120", 120.0),
        ("public, max-age=30, must-revalidate", 30.0),
        ('max-age="45"', 45.0),
        ("no-store", 0.0),
        ("max-age=60, no-cache", 0.0),
        ("public", None),
        ("max-age=-5", None),
        ("max-age=abc", None),
        ("max-age=\u00b2", None),
        ("", None),
    ],
)
def test_cache_control_max_age_parsing(header: str, expected: float | None) -> None:
    assert max_age(header) == expected


def test_ver59_body_without_a_usable_length_is_capped_while_reading(http_server: LocalHTTPServer) -> None:
    # The route's own Content-Length comes first and is not a number, so the client cannot trust
    # any declared length and must count the bytes it reads (HTTP/1.0: the body ends at close).
    undeclared = {"Content-Length": "unknown"}
    http_server.routes["/stream"] = Response(200, b"x" * (5 * 1024 * 1024), undeclared)
    http_server.routes["/small"] = Response(200, b'{"keys": []}', undeclared)

    with pytest.raises(FetchError) as caught:
        get(f"{http_server.url}/stream")

    assert caught.value.failure is FetchFailure.TOO_LARGE
    assert get(f"{http_server.url}/small").body == b'{"keys": []}'
