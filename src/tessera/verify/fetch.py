"""Fetching key documents over HTTPS: one small interface, one stdlib implementation.

The rules hold for every URL Tessera fetches (JWKS, OpenID discovery): ``https`` only, plain
``http`` only for loopback hosts; no user info in the URL; redirects are never followed; a
timeout; a cap on the body size. :class:`Fetcher` is the replaceable part, so tests and
platforms can bring their own transport; :class:`UrllibFetcher` is the default.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from ..errors import TesseraError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT_SECONDS",
    "FetchError",
    "FetchFailure",
    "FetchResult",
    "Fetcher",
    "UrllibFetcher",
    "check_url",
    "is_loopback_host",
]

DEFAULT_TIMEOUT_SECONDS = 1.5
DEFAULT_MAX_BYTES = 64 * 1024
_CHUNK_BYTES = 16 * 1024


class FetchFailure(StrEnum):
    """Why a fetch failed. The set is closed."""

    URL_REFUSED = "url_refused"
    REDIRECT = "redirect"
    HTTP_STATUS = "http_status"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    NETWORK = "network"
    BAD_DOCUMENT = "bad_document"


_MESSAGES = {
    FetchFailure.URL_REFUSED: "the URL is not allowed (https only; http only for loopback hosts)",
    FetchFailure.REDIRECT: "the server answered with a redirect, which is never followed",
    FetchFailure.HTTP_STATUS: "the server answered with an error status",
    FetchFailure.TIMEOUT: "the server did not answer in time",
    FetchFailure.TOO_LARGE: "the response is larger than the configured limit",
    FetchFailure.NETWORK: "the server could not be reached",
    FetchFailure.BAD_DOCUMENT: "the response is not a usable document",
}


class FetchError(TesseraError):
    """A key document could not be fetched; ``failure`` says why.

    The message names the URL without its query, fragment or user info, so no secret
    carried in a URL reaches a log.
    """

    code = "fetch_failed"

    def __init__(self, failure: FetchFailure, url: str, detail: str | None = None) -> None:
        message = f"{_MESSAGES[failure]}: {safe_url(url)}"
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)
        self.failure = failure


class FetchResult(NamedTuple):
    """An HTTP response: status, headers with lower-cased names, and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Fetcher(Protocol):
    """Performs one GET; raises :class:`FetchError` when there is no response to return."""

    def fetch(self, url: str, *, timeout_seconds: float, max_bytes: int) -> FetchResult:
        """GET ``url``, giving up after ``timeout_seconds`` or beyond ``max_bytes`` of body."""
        ...


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment, for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """Return ``url`` if Tessera may fetch it; raise :class:`FetchError` (``url_refused``) if not."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise FetchError(FetchFailure.URL_REFUSED, url) from None
    if not host or parts.username is not None or parts.password is not None:
        raise FetchError(FetchFailure.URL_REFUSED, url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return url
    raise FetchError(FetchFailure.URL_REFUSED, url)


class UrllibFetcher:
    """The default :class:`Fetcher`, on the standard library's ``urllib``.

    It has no redirect handler, so a 3xx answer is a :class:`FetchError`; and no ``file:`` or
    ``ftp:`` handler. Proxies from the environment are used for remote hosts, never for
    loopback ones. A response with an error status is returned, not raised: the caller decides.
    """

    def fetch(self, url: str, *, timeout_seconds: float, max_bytes: int) -> FetchResult:
        """GET ``url`` under the URL rules, the timeout and the size cap."""
        import urllib.error
        import urllib.request
        from http.client import HTTPException

        check_url(url)
        host = urlsplit(url).hostname or ""
        opener = urllib.request.OpenerDirector()
        handlers: list[Any] = [
            urllib.request.ProxyHandler({} if is_loopback_host(host) else None),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ]
        for handler in handlers:
            opener.add_handler(handler)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        deadline = time.monotonic() + timeout_seconds
        try:
            with opener.open(request, timeout=timeout_seconds) as response:
                return _read(response, response.status, url, max_bytes, deadline)
        except urllib.error.HTTPError as exc:
            with exc:
                if 300 <= exc.code < 400:
                    raise FetchError(FetchFailure.REDIRECT, url, f"status {exc.code}") from None
                return _read(exc, exc.code, url, max_bytes, deadline)
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(FetchFailure.TIMEOUT, url) from None
        except urllib.error.URLError as exc:
            failure = FetchFailure.TIMEOUT if isinstance(exc.reason, TimeoutError) else FetchFailure.NETWORK
            raise FetchError(failure, url) from None
        except (OSError, HTTPException, ValueError):
            raise FetchError(FetchFailure.NETWORK, url) from None


def _read(response: Any, status: int, url: str, max_bytes: int, deadline: float) -> FetchResult:
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(FetchFailure.TOO_LARGE, url)
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(FetchFailure.TIMEOUT, url)
        chunk = response.read(min(_CHUNK_BYTES, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(FetchFailure.TOO_LARGE, url)
    return FetchResult(status, headers, b"".join(chunks))
