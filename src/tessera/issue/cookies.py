"""Session, sign-in and CSRF cookies.

Names carry the ``__Host-`` prefix whenever the issuer is https (WEB-01, WEB-02), and then
always ``Secure`` (WEB-04: never derived from the request scheme); a plain-http loopback issuer
(``tessera dev``) uses unprefixed names without ``Secure``, as browsers require. Cookies are
``HttpOnly``, ``SameSite=Lax``, ``Path=/``, never ``Domain``, with a bounded ``Max-Age``. A
request that carries one of our cookie names twice is refused (WEB-18).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec

from starlette.requests import Request
from starlette.responses import Response

from tessera.encoding import b64url_encode
from tessera.issue.offload import off_loop
from tessera.issue.web import BadParameters, error_page, provider_of, read_form

if TYPE_CHECKING:
    from tessera.issue.provider import Provider

__all__ = ["FORGED_FORM", "UNREADABLE_FORM", "CookieJar", "form_token_matches", "posted_work"]

P = ParamSpec("P")

MAX_COOKIE_HEADER = 8192
UNREADABLE_FORM = "The form could not be read."
FORGED_FORM = "The form expired or came from another site. Reload and try again."


def form_token_matches(expected: str, submitted: str) -> bool:
    """Whether a submitted form token is the expected one, compared in constant time.

    As bytes: ``compare_digest`` refuses ``str`` with non-ASCII characters, which a form may carry.
    """
    return hmac.compare_digest(expected.encode(), submitted.encode())


class CookieJar:
    """Reads and writes the provider's cookies, and checks CSRF on its forms."""

    def __init__(self, *, secure: bool, origin: str, csrf_key: bytes) -> None:
        self.secure = secure
        self.origin = origin
        self._csrf_key = csrf_key
        prefix = "__Host-" if secure else ""
        self.session_name = f"{prefix}tessera-session"
        self.signin_name = f"{prefix}tessera-signin"
        self.csrf_name = f"{prefix}tessera-csrf"
        self.link_name = f"{prefix}tessera-link"
        self.second_factor_name = f"{prefix}tessera-second-factor"
        self.address_name = f"{prefix}tessera-address"

    def read(self, request: Request, name: str) -> str | None:
        """The value of cookie ``name``; raise BadParameters if it appears twice or the header is huge."""
        header = request.headers.get("cookie", "")
        if len(header) > MAX_COOKIE_HEADER:
            raise BadParameters("the Cookie header is too large")
        found: list[str] = []
        for part in header.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                found.append(value)
        if len(found) > 1:
            raise BadParameters("a cookie is repeated")
        return found[0] if found and found[0] else None

    def set(self, response: Response, name: str, value: str, max_age: int) -> None:
        """Add a ``Set-Cookie`` for ``name``."""
        attributes = f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
        if self.secure:
            attributes += "; Secure"
        response.headers.append("set-cookie", attributes)

    def clear(self, response: Response, name: str) -> None:
        """Expire ``name`` (same name, path and prefix, ``Max-Age=0``)."""
        self.set(response, name, "", 0)

    def csrf_token(self, cookie_value: str) -> str:
        """The form token that goes with a CSRF cookie value."""
        return b64url_encode(hmac.digest(self._csrf_key, cookie_value.encode(), hashlib.sha256))

    def bound_token(self, purpose: str, *bound_to: str) -> str:
        """A form token for ``purpose`` that only matches the same ``bound_to`` values.

        The consent form binds its token to the session and the pending request, so a token
        seen in one session, or for one request, approves nothing else.
        """
        message = "\x00".join((f"tessera-form:{purpose}", *bound_to)).encode()
        return b64url_encode(hmac.digest(self._csrf_key, message, hashlib.sha256))

    def same_site(self, request: Request) -> bool:
        """False for a request the browser marks cross-site, or whose ``Origin`` is not ours (WEB-08)."""
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        origin = request.headers.get("origin")
        return origin is None or origin == self.origin

    def csrf_ok(self, request: Request, submitted: str | None) -> bool:
        """True when the form's token matches the cookie and the request is not cross-site (WEB-08)."""
        if not self.same_site(request):
            return False
        cookie = self.read(request, self.csrf_name)
        if cookie is None or submitted is None:
            return False
        return form_token_matches(self.csrf_token(cookie), submitted)

    async def posted_form(self, request: Request) -> dict[str, str] | Response:
        """The POSTed form when it reads and its CSRF token matches the cookie, else the error page.

        An unreadable form (or cookie header) gets 400; a missing or wrong token, or a
        cross-site request, gets 403 (WEB-08).
        """
        try:
            form = await read_form(request)
            if self.csrf_ok(request, form.get("csrf")):
                return form
        except BadParameters:
            return error_page(UNREADABLE_FORM)
        return error_page(FORGED_FORM, 403)


async def posted_work(
    request: Request,
    work: Callable[Concatenate[Provider, Request, dict[str, str], P], Response],
    *args: P.args,
    **kwargs: P.kwargs,
) -> Response:
    """A form POST: the form once :meth:`CookieJar.posted_form` accepts it (else its error page),
    then ``work(provider, request, form, *args, **kwargs)`` in one :func:`off_loop` hop."""
    provider = provider_of(request)
    form = await provider.cookies.posted_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, work, provider, request, form, *args, **kwargs)
