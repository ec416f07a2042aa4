"""CORS for protected endpoints: exact origin matching, never a reflected arbitrary Origin.

Only origins in the allow-list get ``Access-Control-Allow-Origin``; ``*`` is refused together
with credentials (WEB-11); every dynamic answer carries ``Vary: Origin`` (WEB-12). Preflights
allow only the configured methods and headers, cached at most 600 seconds (WEB-13).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import ConfigurationError
from .http import HttpRequest, HttpResponse

__all__ = ["CORS"]

_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
MAX_AGE_LIMIT_SECONDS = 600


class CORS:
    """A CORS policy for the protected routes.

    ``allow_origins`` lists exact origins (``https://app.example``) or is ``["*"]`` for a
    public, credential-less API. Example::

        cors = CORS(allow_origins=["https://app.example"], allow_credentials=True)
    """

    def __init__(
        self,
        allow_origins: Iterable[str],
        *,
        allow_credentials: bool = False,
        allow_methods: Iterable[str] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
        allow_headers: Iterable[str] = ("authorization", "content-type"),
        expose_headers: Iterable[str] = ("www-authenticate",),
        max_age_seconds: int = 600,
    ) -> None:
        origins = tuple(allow_origins)
        self.any_origin = origins == ("*",)
        if not origins:
            raise ConfigurationError("allow_origins must list at least one origin")
        if not self.any_origin:
            bad = [o for o in origins if _ORIGIN.fullmatch(o) is None]
            if bad:
                raise ConfigurationError(
                    "allow_origins entries must be exact lower-case origins like https://app.example"
                )
        if self.any_origin and allow_credentials:
            raise ConfigurationError("allow_origins=['*'] cannot be combined with allow_credentials")
        methods = tuple(m.upper() for m in allow_methods)
        headers = tuple(h.lower() for h in allow_headers)
        exposed = tuple(expose_headers)
        if not all(_TOKEN.fullmatch(x) for x in (*methods, *headers, *exposed)):
            raise ConfigurationError("CORS methods and header names must be HTTP tokens")
        if type(max_age_seconds) is not int or not 0 <= max_age_seconds <= MAX_AGE_LIMIT_SECONDS:
            raise ConfigurationError(f"max_age_seconds must be from 0 to {MAX_AGE_LIMIT_SECONDS}")
        self.allow_origins = frozenset(origins)
        self.allow_credentials = allow_credentials
        self.allow_methods = methods
        self.allow_headers = frozenset(headers)
        self.max_age_seconds = max_age_seconds
        self._allow_headers_value = ", ".join(headers)
        self._expose_value = ", ".join(exposed)

    def headers_for(self, origin: str | None) -> tuple[tuple[str, str], ...]:
        """The CORS headers for an actual (non-preflight) response to ``origin``."""
        if self.any_origin:
            found: list[tuple[str, str]] = [("Access-Control-Allow-Origin", "*")]
        else:
            found = [("Vary", "Origin")]
            if origin is None or origin not in self.allow_origins:
                return tuple(found)
            found.append(("Access-Control-Allow-Origin", origin))
            if self.allow_credentials:
                found.append(("Access-Control-Allow-Credentials", "true"))
        if self._expose_value:
            found.append(("Access-Control-Expose-Headers", self._expose_value))
        return tuple(found)

    @staticmethod
    def is_preflight(request: HttpRequest) -> bool:
        """True for an ``OPTIONS`` request carrying ``Access-Control-Request-Method``."""
        return request.method.upper() == "OPTIONS" and "access-control-request-method" in request.headers

    def preflight(self, request: HttpRequest) -> HttpResponse:
        """The answer to a preflight: allows only what is configured, or nothing at all."""
        origin = request.origin
        method = request.headers.get("access-control-request-method", "").upper()
        asked = request.headers.get("access-control-request-headers", "")
        wanted = {h.strip().lower() for h in asked.split(",") if h.strip()}
        vary = () if self.any_origin else (("Vary", "Origin"),)
        allowed_origin = self.any_origin or (origin is not None and origin in self.allow_origins)
        if not allowed_origin or method not in self.allow_methods or not wanted <= self.allow_headers:
            return HttpResponse(403, (*vary, ("Cache-Control", "no-store")))
        headers = [
            *self.headers_for(origin),
            ("Access-Control-Allow-Methods", ", ".join(self.allow_methods)),
            ("Access-Control-Max-Age", str(self.max_age_seconds)),
        ]
        if self._allow_headers_value:
            headers.append(("Access-Control-Allow-Headers", self._allow_headers_value))
        return HttpResponse(204, tuple(headers))
