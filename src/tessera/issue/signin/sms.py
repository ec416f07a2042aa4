"""Sign-in by a code sent by SMS: the phone number, then the code, then a new session.

The same forms, cookies and rules as the email code (:mod:`.signin`): CSRF-bound forms refused
cross-site, the challenge in this browser's sign-in cookie, the same per-address request limit,
guess budgets and resend throttle, and the same answer whether the number has an account or
not. An invalid number is refused on the form with a message saying what to type; the send
limits per number and per country answer 429 with ``Retry-After``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.addresses import request_address
from tessera.issue.assurance import SMS_AMR
from tessera.issue.cookies import UNREADABLE_FORM, posted_work
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.signin.magic_link import csrf_page, finish_sign_in
from tessera.issue.signin.shown_address import recall_address, remember_address
from tessera.issue.signin.throttle import come_back, resend_refused, throttled_context
from tessera.issue.web import NO_STORE, BadParameters, error_page, page
from tessera.passwordless import CodeRejected, SignInThrottled
from tessera.passwordless.sms import PhoneNumberRejected, SmsCodes, SmsSendLimited

__all__ = ["phone_code_form", "phone_form", "resend_phone_code", "submit_phone", "submit_phone_code"]

INVALID_NUMBER = "Enter your mobile number with its country code, for example +33 6 12 34 56 78."
_PHONE_PAGE = "signin_phone.html"
_CODE_PAGE = "signin_phone_code.html"


def _provider(request: Request) -> tuple[Provider, SmsCodes] | Response:
    provider: Provider = request.app.state.provider
    if provider.sms is None:
        return page("error.html", 404, message="Sign-in by text message is not available here.")
    return provider, provider.sms


async def phone_form(request: Request) -> Response:
    """GET ``/signin/phone``: ask for the phone number."""
    found = _provider(request)
    if isinstance(found, Response):
        return found
    provider, _ = found
    request_id = request.query_params.get("request", "")
    return _phone_page(provider, request, request_id)


def _phone_page(
    provider: Provider,
    request: Request,
    request_id: str,
    status: int = 200,
    *,
    phone: str = "",
    error: str = "",
) -> Response:
    """The number form (``phone`` as typed, when it comes back with an ``error``)."""
    email_url = f"{provider.settings.base_path}/signin?{urlencode({'request': request_id})}"
    return csrf_page(
        provider,
        request,
        _PHONE_PAGE,
        status,
        action="/signin/phone",
        request_id=request_id,
        email_url=email_url,
        phone=phone,
        error=error,
    )


def _code_page(
    provider: Provider,
    request: Request,
    request_id: str,
    status: int = 200,
    *,
    error: str = "",
    page_error: str = "",
    sent: str = "",
) -> Response:
    """The code page, with the number the code went to, "use another number" and "send a new code"."""
    base = provider.settings.base_path
    account = recall_address(provider, request)
    number = account.removeprefix("tel:") if account is not None and account.startswith("tel:") else ""
    return csrf_page(
        provider,
        request,
        _CODE_PAGE,
        status,
        action="/signin/phone/code",
        completes=True,
        request_id=request_id,
        address=number,
        another_url=f"{base}/signin/phone?{urlencode({'request': request_id})}",
        resend_action=f"{base}/signin/phone/code/resend" if number else "",
        error=error,
        page_error=page_error,
        sent=sent,
    )


async def phone_code_form(request: Request) -> Response:
    """GET ``/signin/phone/code``: ask for the code sent by SMS."""
    found = _provider(request)
    if isinstance(found, Response):
        return found
    provider, _ = found
    request_id = request.query_params.get("request", "")
    sent = "1" if request.query_params.get("sent") == "1" else ""
    return await off_loop(provider, _code_page, provider, request, request_id, sent=sent)


async def submit_phone(request: Request) -> Response:
    """POST ``/signin/phone``: queue a code text (sent if the number has an account) and ask for it."""
    found = _provider(request)
    if isinstance(found, Response):
        return found
    provider, sms = found
    form = await provider.cookies.posted_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, _start, provider, sms, request, form, form.get("phone", ""), resend=False)


async def resend_phone_code(request: Request) -> Response:
    """POST ``/signin/phone/code/resend``: a new code to the number the last one went to, throttled as ever.

    Without a current phone sign-in in this browser there is nowhere to send it: back to the number form.
    """
    found = _provider(request)
    if isinstance(found, Response):
        return found
    provider, sms = found
    form = await provider.cookies.posted_form(request)
    if isinstance(form, Response):
        return form
    account = recall_address(provider, request)
    if account is None or not account.startswith("tel:"):
        query = urlencode({"request": form.get("request", "")})
        return RedirectResponse(f"{provider.settings.base_path}/signin/phone?{query}", 303, headers=NO_STORE)
    number = account.removeprefix("tel:")
    return await off_loop(provider, _start, provider, sms, request, form, number, resend=True)


def _refused(provider: Provider, exc: SignInThrottled, resend: bool) -> str:
    if isinstance(exc, SmsSendLimited):
        return (
            "Too many texts were sent to this number or country. "
            f"Try again {come_back(exc.retry_after_seconds)}, or use your email."
        )
    return resend_refused(provider, exc) if resend else throttled_context(provider, exc, "")["error"]


def _start(
    provider: Provider, sms: SmsCodes, request: Request, form: dict[str, str], phone: str, *, resend: bool
) -> Response:
    """Queue a code text to ``phone`` and go to the code page (refusals: the page the form was on)."""
    request_id = form.get("request", "")
    address = request_address(request, provider.settings.proxy_networks)
    try:
        wait = provider.limits.hit(
            f"sign-in-address:{address}", provider.settings.sign_in_requests_per_minute_per_address
        )
        if wait is not None:
            raise SignInThrottled(wait)
        challenge = sms.start(phone, address)
    except PhoneNumberRejected:
        return _phone_page(provider, request, request_id, 400, phone=phone[:64], error=INVALID_NUMBER)
    except SignInThrottled as exc:
        message = _refused(provider, exc, resend)
        if resend:
            response = _code_page(provider, request, request_id, 429, page_error=message)
        else:
            response = _phone_page(provider, request, request_id, 429, phone=phone[:64], error=message)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    query = urlencode({"request": request_id, **({"sent": "1"} if resend else {})})
    response = RedirectResponse(
        f"{provider.settings.base_path}/signin/phone/code?{query}", status_code=303, headers=NO_STORE
    )
    provider.cookies.set(
        response, provider.cookies.signin_name, challenge.challenge_id, provider.codes.ttl_seconds
    )
    remember_address(provider, response, challenge)
    return response


async def submit_phone_code(request: Request) -> Response:
    """POST ``/signin/phone/code``: check the code, start a session, resume the authorization request."""
    found = _provider(request)
    if isinstance(found, Response):
        return found
    return await posted_work(request, _check_code)


def _check_code(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    try:
        challenge_id = provider.cookies.read(request, provider.cookies.signin_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    request_id = form.get("request", "")
    address = request_address(request, provider.settings.proxy_networks)

    def again(status: int, error: str) -> Response:
        return _code_page(provider, request, request_id, status, error=error)

    try:
        if challenge_id is None:
            raise CodeRejected("no sign-in in progress")
        account = provider.codes.verify(challenge_id, form.get("code", ""), address)
    except SignInThrottled as exc:
        provider.audit.event("sign_in_failed")
        wait = exc.retry_after_seconds
        response = again(
            429, f"Too many wrong codes were tried from your network. Try again {come_back(wait)}."
        )
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except CodeRejected:
        provider.audit.event("sign_in_failed")
        return again(400, "That code is not valid. Check it, or send a new code.")
    number = account.removeprefix("tel:")
    user = provider.store.find_user_by_phone(number) if account.startswith("tel:") else None
    if user is None or user.disabled:
        provider.audit.event("sign_in_failed")
        return page("error.html", 403, message="This account cannot sign in.")
    return finish_sign_in(
        provider, user, request_id, SMS_AMR, method="sms", user_agent=request.headers.get("user-agent", "")
    )
