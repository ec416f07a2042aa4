"""Calls to an upstream provider: token requests (POST) and JSON reads with a bearer token.

The same rules as every fetch Tessera makes (:mod:`tessera.verify.fetch`): https only (plain
http only to loopback hosts), no user info in URLs, redirects never followed, a timeout and a
cap on the body. :class:`UpstreamHTTP` is the replaceable part.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from tessera.verify.fetch import FetchError, FetchFailure, FetchResult, check_url, is_loopback_host

__all__ = ["UpstreamHTTP", "UrllibUpstreamHTTP", "json_body"]

TIMEOUT_SECONDS = 5.0
MAX_BYTES = 256 * 1024


class UpstreamHTTP(Protocol):
    """One HTTP exchange with an upstream; raises FetchError when there is no response."""

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], form: Mapping[str, str] | None = None
    ) -> FetchResult:
        """Send ``form`` (url-encoded) or nothing; the response, whatever its status."""
        ...


def json_body(result: FetchResult, url: str) -> dict[str, Any]:
    """The response's JSON object; raise FetchError (``bad_document``) for anything else."""
    try:
        value = json.loads(result.body)
    except (ValueError, UnicodeDecodeError):
        raise FetchError(FetchFailure.BAD_DOCUMENT, url, "not JSON") from None
    if not isinstance(value, dict):
        raise FetchError(FetchFailure.BAD_DOCUMENT, url, "not a JSON object")
    return value


class UrllibUpstreamHTTP:
    """:class:`UpstreamHTTP` on the standard library, under the fetch rules."""

    def __init__(self, timeout_seconds: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str], form: Mapping[str, str] | None = None
    ) -> FetchResult:
        """Send one request; 3xx is a FetchError, other statuses are returned."""
        import urllib.error
        import urllib.request
        from http.client import HTTPException

        from tessera.verify.fetch import _read

        check_url(url)
        host = urlsplit(url).hostname or ""
        opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler({} if is_loopback_host(host) else None),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            opener.add_handler(handler)
        data = urlencode(dict(form)).encode("ascii") if form is not None else None
        all_headers = {"Accept": "application/json", "User-Agent": "tessera", **headers}
        if data is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310
        deadline = time.monotonic() + self.timeout_seconds
        try:
            with opener.open(request, timeout=self.timeout_seconds) as response:
                return _read(response, response.status, url, self.max_bytes, deadline)
        except urllib.error.HTTPError as exc:
            with exc:
                if 300 <= exc.code < 400:
                    raise FetchError(FetchFailure.REDIRECT, url, f"status {exc.code}") from None
                return _read(exc, exc.code, url, self.max_bytes, deadline)
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(FetchFailure.TIMEOUT, url) from None
        except urllib.error.URLError as exc:
            failure = FetchFailure.TIMEOUT if isinstance(exc.reason, TimeoutError) else FetchFailure.NETWORK
            raise FetchError(failure, url) from None
        except (OSError, HTTPException, ValueError):
            raise FetchError(FetchFailure.NETWORK, url) from None
