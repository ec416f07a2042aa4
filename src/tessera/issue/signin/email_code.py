"""The sign-in pages: email address, then the emailed one-time code, then a new session.

Both forms carry a CSRF token bound to a cookie by HMAC and are refused cross-site (WEB-08);
the code only works from the browser that asked for it, whose challenge id is in a cookie
(PWL-18, WEB-10); a successful sign-in always mints a new session id (WEB-06) and redirects
with 303 (AS-33), or first asks for the user's TOTP (:mod:`.second_factor`). The code page's
``form-action`` also names the client's origin: a correct code ends, after redirects, at the
client, and browsers check those redirects against it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.addresses import request_address
from tessera.issue.assurance import EMAIL_AMR
from tessera.issue.cookies import UNREADABLE_FORM, posted_work
from tessera.issue.endpoints.authorize import AuthorizationRequest, load_pending, validate
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.signin.federation.pages import upstream_buttons
from tessera.issue.signin.magic_link import link_url
from tessera.issue.signin.second_factor import finish_first_factor
from tessera.issue.signin.shown_address import forget_address, recall_address, remember_address
from tessera.issue.signin.signup import user_for_address
from tessera.issue.signin.throttle import come_back, resend_refused, throttled_context
from tessera.issue.tokens import new_secret
from tessera.issue.web import NO_STORE, BadParameters, error_page, page, provider_of
from tessera.passwordless import CodeRejected, SignInThrottled

__all__ = ["code_form", "email_form", "resend_code", "sign_in_target", "submit_code", "submit_email"]

MAX_EMAIL = 254
THEN_PAGES = frozenset({"account"})  # where a sign-in no application asked for may return to


def sign_in_target(provider: Provider, request_id: str, then: str) -> str:
    """Where a successful sign-in goes: the authorization request, a provider page, or "done"."""
    base = provider.settings.base_path
    if request_id:
        return f"{base}/authorize/continue?{urlencode({'request': request_id})}"
    if then in THEN_PAGES:
        return f"{base}/{then}"
    return f"{base}/signin/done"


def _then(value: str) -> str:
    return value if value in THEN_PAGES else ""


def _then_param(then: str) -> dict[str, str]:
    return {"then": then} if then else {}


def _with_csrf(
    provider: Provider, request: Request, template: str, status: int = 200, **context: str
) -> Response:
    try:
        cookie = provider.cookies.read(request, provider.cookies.csrf_name)
    except BadParameters:
        cookie = None
    fresh = cookie is None
    value = cookie if cookie is not None else new_secret()
    base = provider.settings.base_path
    code_form = template == "signin_code.html"
    upstreams = [] if code_form else upstream_buttons(provider, context.get("request_id", ""))
    action = f"{base}/signin/code" if code_form else f"{base}/signin"
    if code_form:
        context = {**_code_page_links(provider, request, context), **context}
    response = page(
        template,
        status,
        form_targets=_client_redirect(provider, context.get("request_id", "")) if code_form else (),
        csrf=provider.cookies.csrf_token(value),
        action=action,
        base=base,
        upstreams=upstreams,
        **context,
    )
    if fresh:
        provider.cookies.set(response, provider.cookies.csrf_name, value, provider.settings.session_seconds)
    return response


def _code_page_links(provider: Provider, request: Request, context: dict[str, str]) -> dict[str, str]:
    """The code page's address, its "use another email" link and (with an address) its resend form."""
    base = provider.settings.base_path
    query = urlencode({"request": context.get("request_id", ""), **_then_param(context.get("then", ""))})
    address = recall_address(provider, request)
    return {
        "address": address or "",
        "another_url": f"{base}/signin?{query}",
        "resend_action": f"{base}/signin/code/resend" if address else "",
    }


def _client_redirect(provider: Provider, request_id: str) -> list[str]:
    """The pending request's redirect URI: where a correct code ends up, after redirects."""
    pending = load_pending(provider, request_id)
    verified = validate(provider, urlencode(dict(pending.record.params))) if pending is not None else None
    return [verified.redirect_uri] if isinstance(verified, AuthorizationRequest) else []


async def email_form(request: Request) -> Response:
    """GET ``/signin``: ask for the email address."""
    provider = provider_of(request)
    request_id = request.query_params.get("request", "")
    phone_url = ""
    if provider.sms is not None:
        phone_url = f"{provider.settings.base_path}/signin/phone?{urlencode({'request': request_id})}"
    return await off_loop(
        provider,
        _with_csrf,
        provider,
        request,
        "signin_email.html",
        request_id=request_id,
        then=_then(request.query_params.get("then", "")),
        phone_url=phone_url,
    )


async def code_form(request: Request) -> Response:
    """GET ``/signin/code``: ask for the code."""
    provider = provider_of(request)
    return await off_loop(
        provider,
        _with_csrf,
        provider,
        request,
        "signin_code.html",
        request_id=request.query_params.get("request", ""),
        then=_then(request.query_params.get("then", "")),
        sent="1" if request.query_params.get("sent") == "1" else "",
    )


async def submit_email(request: Request) -> Response:
    """POST ``/signin``: queue a code mail (sent if the address has an account) and ask for it."""
    return await posted_work(request, _start_sign_in)


def _start_sign_in(
    provider: Provider, request: Request, form: dict[str, str], *, resend_to: str | None = None
) -> Response:
    """Queue a code mail and go to the code page; ``resend_to`` is the address of a resend."""
    request_id = form.get("request", "")
    then = _then(form.get("then", ""))
    email = resend_to if resend_to is not None else form.get("email", "").strip()
    if len(email) > MAX_EMAIL or "@" not in email or any(c.isspace() or ord(c) < 32 for c in email):
        return _with_csrf(
            provider,
            request,
            "signin_email.html",
            400,
            request_id=request_id,
            then=then,
            email=email[:MAX_EMAIL],
            error="Enter a valid email address.",
        )
    address = request_address(request, provider.settings.proxy_networks)
    try:
        wait = provider.limits.hit(
            f"sign-in-address:{address}", provider.settings.sign_in_requests_per_minute_per_address
        )
        if wait is not None:
            raise SignInThrottled(wait)
        challenge = provider.codes.start(
            email, address, link_url=lambda token: link_url(provider, token, request_id)
        )
    except SignInThrottled as exc:
        if resend_to is not None:
            response = _with_csrf(
                provider,
                request,
                "signin_code.html",
                429,
                request_id=request_id,
                then=then,
                page_error=resend_refused(provider, exc),
            )
        else:
            response = _with_csrf(
                provider,
                request,
                "signin_email.html",
                429,
                request_id=request_id,
                then=then,
                email=email,
                **throttled_context(provider, exc, request_id),
            )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    sent = {"sent": "1"} if resend_to is not None else {}
    query = urlencode({"request": request_id, **_then_param(then), **sent})
    response = RedirectResponse(
        f"{provider.settings.base_path}/signin/code?{query}",
        status_code=303,
        headers=NO_STORE,
    )
    provider.cookies.set(
        response, provider.cookies.signin_name, challenge.challenge_id, provider.codes.ttl_seconds
    )
    remember_address(provider, response, challenge)
    return response


async def resend_code(request: Request) -> Response:
    """POST ``/signin/code/resend``: a new code to the address the last one went to, throttled as ever.

    Without a current sign-in in this browser there is nowhere to send it: back to the email form.
    """
    provider = provider_of(request)
    form = await provider.cookies.posted_form(request)
    if isinstance(form, Response):
        return form
    address = recall_address(provider, request)
    if address is None:
        query = urlencode({"request": form.get("request", ""), **_then_param(_then(form.get("then", "")))})
        return RedirectResponse(f"{provider.settings.base_path}/signin?{query}", 303, headers=NO_STORE)
    return await off_loop(provider, _start_sign_in, provider, request, form, resend_to=address)


async def submit_code(request: Request) -> Response:
    """POST ``/signin/code``: check the code, start a session, resume the authorization request."""
    return await posted_work(request, _check_code)


def _check_code(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    try:
        challenge_id = provider.cookies.read(request, provider.cookies.signin_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    request_id = form.get("request", "")
    then = _then(form.get("then", ""))
    address = request_address(request, provider.settings.proxy_networks)
    try:
        if challenge_id is None:
            raise CodeRejected("no sign-in in progress")
        email = provider.codes.verify(challenge_id, form.get("code", ""), address)
    except SignInThrottled as exc:
        provider.audit.event("sign_in_failed")
        wait = come_back(exc.retry_after_seconds)
        response = _with_csrf(
            provider,
            request,
            "signin_code.html",
            429,
            request_id=request_id,
            then=then,
            error=f"Too many wrong codes were tried from your network. Try again {wait}.",
        )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except CodeRejected:
        provider.audit.event("sign_in_failed")
        return _with_csrf(
            provider,
            request,
            "signin_code.html",
            400,
            request_id=request_id,
            then=then,
            error="That code is not valid. Check it, or send a new code.",
        )
    user = user_for_address(provider, email)
    if user is None or user.disabled:
        provider.audit.event("sign_in_failed")
        return page("error.html", 403, message="This account cannot sign in.")
    target = sign_in_target(provider, request_id, then)
    response = finish_first_factor(
        provider,
        user,
        EMAIL_AMR,
        request_id=request_id,
        then=then,
        target=target,
        method="email_code",
        user_agent=request.headers.get("user-agent", ""),
    )
    forget_address(provider, response)
    return response


async def signed_in(request: Request) -> Response:
    """GET ``/signin/done``: shown after a sign-in that no application asked for."""
    return page("message.html", title="Signed in", message="You are signed in. You can close this page.")
