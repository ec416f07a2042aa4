"""HTTP plumbing shared by the endpoints: strict parameter parsing, OAuth errors, HTML pages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from tessera.issue.look import Look

if TYPE_CHECKING:
    from tessera.issue.provider import Provider

__all__ = [
    "MAX_BODY_BYTES",
    "PAGE_LOOK",
    "REFERRER_POLICY",
    "BadParameters",
    "json_response",
    "oauth_error",
    "page",
    "parse_params",
    "split_params",
    "read_form",
]

MAX_BODY_BYTES = 64 * 1024
MAX_PARAMS = 64
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|http://\[::1\](:[0-9]{1,5})?", re.ASCII)
# same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with the pages' own
# form POSTs (Fetch, "serializing a request origin"), which the CSRF check refuses. same-origin
# keeps the real Origin on our own POSTs and sends no Referer to any other origin.
REFERRER_POLICY = "same-origin"
PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": _PAGE_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": REFERRER_POLICY,
    "X-Content-Type-Options": "nosniff",
}
# The look (name, logo, templates) of the provider serving the current request (set by create_app).
_BUILT_IN_LOOK = Look("Tessera")
PAGE_LOOK: ContextVar[Look] = ContextVar("page_look", default=_BUILT_IN_LOOK)


class BadParameters(ValueError):
    """The request's parameters are malformed, too many, or one is repeated (RFC 6749 §3.1)."""

    def __init__(self, description: str, repeated: frozenset[str] = frozenset()) -> None:
        super().__init__(description)
        self.description = description
        self.repeated = repeated


def split_params(raw: str) -> tuple[dict[str, str], frozenset[str]]:
    """Decode ``application/x-www-form-urlencoded`` text: the values, and the names that repeat.

    Empty values count as absent, as RFC 6749 §3.1 says. Malformed text or too many fields
    raise BadParameters.
    """
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_PARAMS, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise BadParameters("the parameters are malformed") from None
    params: dict[str, str] = {}
    seen: set[str] = set()
    repeated: set[str] = set()
    for name, value in pairs:
        if name in seen:
            repeated.add(name)
        seen.add(name)
        if value != "":
            params[name] = value
    return params, frozenset(repeated)


def parse_params(raw: str) -> dict[str, str]:
    """:func:`split_params`, where a repeated name raises BadParameters."""
    params, repeated = split_params(raw)
    if repeated:
        raise BadParameters("a parameter is repeated", repeated)
    return params


async def read_form(request: Request) -> dict[str, str]:
    """The form body of a POST, strictly parsed; raise BadParameters for anything else."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise BadParameters("the body must be application/x-www-form-urlencoded")
    declared = request.headers.get("content-length", "0")
    if not declared.isascii() or not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise BadParameters("the body is too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadParameters("the body is too large")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise BadParameters("the body must be percent-encoded ASCII") from None
    return parse_params(text)


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response that no cache keeps (RFC 6749 §5.1)."""
    return JSONResponse(dict(body), status_code=status, headers={**NO_STORE, **(headers or {})})


def oauth_error(
    error: str, description: str | None = None, status: int = 400, headers: Mapping[str, str] | None = None
) -> Response:
    """An RFC 6749 §5.2 error body."""
    body = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(body, status, headers)


def form_target(uri: str) -> str | None:
    """The origin of ``uri`` as a CSP source, or None when it is not a plain http(s) origin."""
    parts = urlsplit(uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if parts.scheme in ("http", "https") and _ORIGIN.fullmatch(origin) else None


def page(template: str, status: int = 200, *, form_targets: Sequence[str] = (), **context: Any) -> Response:
    """A server-rendered page with anti-framing, same-origin referrer and no-store headers (AS-31, AS-34).

    ``form_targets`` are origins the page's forms may end up at: browsers apply ``form-action``
    to the redirects that follow a form POST, and a form that completes an authorization ends
    in a redirect to the client.
    """
    look = PAGE_LOOK.get()
    html = look.templates.get_template(template).render(
        provider_name=look.name, logo_src=look.logo_src, static=look.static, **context
    )
    headers = dict(PAGE_HEADERS)
    targets = [t for t in (form_target(uri) for uri in form_targets) if t is not None]
    policy = _PAGE_POLICY
    if targets:
        policy = policy.replace("form-action 'self'", " ".join(["form-action 'self'", *targets]))
    if look.image_origins:
        policy = policy.replace("img-src 'self'", " ".join(["img-src 'self'", *look.image_origins]))
    headers["Content-Security-Policy"] = policy
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(message: str, status: int = 400) -> Response:
    """The error page shown instead of redirecting to an unverified client (RFC 6749 §4.1.2.1)."""
    return page("error.html", status=status, message=message)


def dumps(value: Any) -> str:
    """Compact JSON text."""
    return json.dumps(value, separators=(",", ":"))


def provider_of(request: Request) -> Provider:
    """The provider serving this request (set on the app's state when it is built)."""
    provider: Provider = request.app.state.provider
    return provider
