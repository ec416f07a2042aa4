"""The magic link's landing: a GET that consumes nothing, then a confirm POST in the asking browser.

``GET /signin/link?token=...`` moves the token into a short-lived cookie and redirects (303) to
the same path without it, so the token is neither in the page's URL, its history entry nor any
Referer (PWL-12, and every page sends ``Referrer-Policy: no-referrer``). The landing page asks
for a click; only the ``POST`` (same-site, with the CSRF token) redeems the link (PWL-05), and
only in the browser whose sign-in cookie holds the challenge the link was sent for (PWL-04).
Anywhere else the page says to continue in the browser that asked, and nobody is signed in.
The link's host is always the configured issuer's, never the request's (PWL-08).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.addresses import request_address
from tessera.issue.assurance import EMAIL_AMR
from tessera.issue.cookies import UNREADABLE_FORM, posted_work
from tessera.issue.endpoints.authorize import AuthorizationRequest, load_pending, validate
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.signin.second_factor import finish_first_factor
from tessera.issue.signin.signup import user_for_address
from tessera.issue.signin.throttle import come_back
from tessera.issue.tokens import new_secret
from tessera.issue.web import NO_STORE, BadParameters, error_page, page, provider_of
from tessera.passwordless import LinkRejected, SignInThrottled
from tessera.store import User

__all__ = ["confirm_link", "csrf_page", "finish_sign_in", "land_link", "link_url"]

_TOKEN = re.compile(r"[0-9]{1,12}\.[A-Za-z0-9_-]{43}", re.ASCII)
OTHER_BROWSER = (
    "This sign-in link only works in the browser where you asked for it. Open it there, "
    "or sign in again here."
)
BAD_LINK = (
    "This sign-in link is not valid: it was used, it expired, or a newer one was sent. Request a new one."
)


def link_url(provider: Provider, token: str, request_id: str) -> str:
    """The URL a mail carries for ``token``: on the configured issuer, whatever Host the request named."""
    query = {"token": token, **({"request": request_id} if request_id else {})}
    return f"{provider.settings.issuer}/signin/link?{urlencode(query)}"


def client_redirect(provider: Provider, request_id: str) -> list[str]:
    """The pending request's redirect URI: where a completed sign-in ends up, after redirects."""
    pending = load_pending(provider, request_id)
    verified = validate(provider, urlencode(dict(pending.record.params))) if pending is not None else None
    return [verified.redirect_uri] if isinstance(verified, AuthorizationRequest) else []


def csrf_page(
    provider: Provider,
    request: Request,
    template: str,
    status: int = 200,
    *,
    action: str,
    completes: bool = False,
    **context: str,
) -> Response:
    """``template`` with a CSRF form token (setting its cookie when the browser has none).

    With ``completes``, the page's form may end at the client (its origin joins ``form-action``).
    """
    try:
        cookie = provider.cookies.read(request, provider.cookies.csrf_name)
    except BadParameters:
        cookie = None
    value = cookie if cookie is not None else new_secret()
    request_id = context.get("request_id", "")
    response = page(
        template,
        status,
        form_targets=client_redirect(provider, request_id) if completes else (),
        csrf=provider.cookies.csrf_token(value),
        action=f"{provider.settings.base_path}{action}",
        **context,
    )
    if cookie is None:
        provider.cookies.set(response, provider.cookies.csrf_name, value, provider.settings.session_seconds)
    return response


def finish_sign_in(
    provider: Provider,
    user: User,
    request_id: str,
    amr: Sequence[str],
    *,
    method: str = "magic_link",
    user_agent: str = "",
) -> Response:
    """After a first factor by ``amr``: a new session (never a planted id: WEB-06) and a 303 on to
    the authorization request, or first the TOTP step (:mod:`.second_factor`).

    ``method`` and ``user_agent`` go with the session (see ``Provider.start_session``)."""
    base = provider.settings.base_path
    target = (
        f"{base}/authorize/continue?{urlencode({'request': request_id})}"
        if request_id
        else f"{base}/signin/done"
    )
    response = finish_first_factor(
        provider,
        user,
        amr,
        request_id=request_id,
        then="",
        target=target,
        method=method,
        user_agent=user_agent,
    )
    provider.cookies.clear(response, provider.cookies.address_name)
    return response


async def land_link(request: Request) -> Response:
    """GET ``/signin/link``: park the token in a cookie and drop it from the URL; then the confirm page."""
    provider = provider_of(request)
    request_id = request.query_params.get("request", "")
    token = request.query_params.get("token")
    base = provider.settings.base_path
    if token is not None:
        if _TOKEN.fullmatch(token) is None:
            return error_page(BAD_LINK)
        query = urlencode({"request": request_id}) if request_id else ""
        response = RedirectResponse(
            f"{base}/signin/link{'?' + query if query else ''}", status_code=303, headers=NO_STORE
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        provider.cookies.set(response, provider.cookies.link_name, token, provider.codes.ttl_seconds)
        return response
    return await off_loop(provider, _landing_page, provider, request, request_id)


def _landing_page(provider: Provider, request: Request, request_id: str) -> Response:
    try:
        parked = provider.cookies.read(request, provider.cookies.link_name)
        challenge_id = provider.cookies.read(request, provider.cookies.signin_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    if parked is None:
        return error_page(BAD_LINK)
    if challenge_id is None:
        return page("message.html", title="Continue where you asked", message=OTHER_BROWSER)
    return csrf_page(
        provider, request, "signin_link.html", action="/signin/link", completes=True, request_id=request_id
    )


async def confirm_link(request: Request) -> Response:
    """POST ``/signin/link``: redeem the parked link with this browser's challenge; sign in."""
    return await posted_work(request, _redeem)


def _redeem(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    try:
        token = provider.cookies.read(request, provider.cookies.link_name)
        challenge_id = provider.cookies.read(request, provider.cookies.signin_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    request_id = form.get("request", "")
    if token is None:
        return error_page(BAD_LINK)
    if challenge_id is None:
        return page("message.html", 400, title="Continue where you asked", message=OTHER_BROWSER)
    address = request_address(request, provider.settings.proxy_networks)
    try:
        email = provider.codes.links.redeem(challenge_id, token, address)
    except SignInThrottled as exc:
        provider.audit.event("sign_in_failed")
        wait = come_back(exc.retry_after_seconds)
        response = error_page(f"Too many failed sign-ins from your network. Try again {wait}.", 429)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except LinkRejected:
        provider.audit.event("sign_in_failed")
        response = error_page(BAD_LINK)
        provider.cookies.clear(response, provider.cookies.link_name)
        return response
    user = user_for_address(provider, email)
    if user is None or user.disabled:
        provider.audit.event("sign_in_failed")
        return page("error.html", 403, message="This account cannot sign in.")
    response = finish_sign_in(
        provider, user, request_id, EMAIL_AMR, user_agent=request.headers.get("user-agent", "")
    )
    provider.cookies.clear(response, provider.cookies.link_name)
    return response
