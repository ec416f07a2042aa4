"""``/signin/totp``: the second step of a sign-in for users with an authenticator app (TOTP).

The page asks for the app's 6-digit code or one of the recovery codes, for the pending sign-in
this browser's cookie holds (:mod:`.second_factor`). A code is accepted once per time step,
recovery codes once each, and wrong codes count against the user's failure budget (PWL-21 to
PWL-23, :mod:`tessera.passwordless.totp`). A correct one makes a new session whose ``amr`` adds
``otp`` and ``mfa`` to the first factor's, and uses the pending sign-in up.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tessera.issue.assurance import with_second_factor
from tessera.issue.cookies import UNREADABLE_FORM, posted_work
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.signin.email_code import sign_in_target
from tessera.issue.signin.magic_link import csrf_page
from tessera.issue.signin.second_factor import (
    PendingSecondFactor,
    read_pending,
    session_redirect,
    use_pending,
)
from tessera.issue.web import BadParameters, error_page, page, provider_of
from tessera.passwordless.totp import TotpRejected, TotpThrottled

__all__ = ["submit_totp", "totp_form"]

_PAGE = "signin_totp.html"
EXPIRED = "This sign-in has expired or was already completed. Sign in again."
WRONG = "That code is not valid. Enter the current code from your app, or an unused recovery code."
THROTTLED = "Too many wrong codes were entered for this account. Wait a few minutes and try again."
TOTP_DIGITS = 6


def _restart(provider: Provider, pending: PendingSecondFactor | None) -> str:
    request_id = pending.request_id if pending is not None else ""
    return f"{provider.settings.base_path}/signin?{urlencode({'request': request_id})}"


def _form(
    provider: Provider, request: Request, pending: PendingSecondFactor, status: int = 200, error: str = ""
) -> Response:
    extra = {"error": error} if error else {}
    return csrf_page(
        provider,
        request,
        _PAGE,
        status,
        action="/signin/totp",
        completes=True,
        request_id=pending.request_id,
        restart=_restart(provider, pending),
        **extra,
    )


def _expired(provider: Provider) -> Response:
    return page(
        "reauthenticate.html",
        400,
        title="Sign in again",
        message=EXPIRED,
        sign_in_again=_restart(provider, None),
    )


async def totp_form(request: Request) -> Response:
    """GET ``/signin/totp``: ask for the authenticator or a recovery code."""
    provider = provider_of(request)
    return await off_loop(provider, _show, provider, request)


def _show(provider: Provider, request: Request) -> Response:
    try:
        pending = read_pending(provider, request)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    return _expired(provider) if pending is None else _form(provider, request, pending)


async def submit_totp(request: Request) -> Response:
    """POST ``/signin/totp``: check the code; a two-factor session and on to where the sign-in was going."""
    return await posted_work(request, _check)


def _is_totp_code(value: str) -> bool:
    digits = "".join(value.split())
    return len(digits) == TOTP_DIGITS and digits.isascii() and digits.isdigit()


def _check(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    try:
        pending = read_pending(provider, request)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    if pending is None:
        return _expired(provider)
    code = form.get("code", "")[:64]
    recovery = not _is_totp_code(code)
    try:
        if recovery:
            provider.totp.use_recovery_code(pending.user_id, code)
        else:
            provider.totp.verify(pending.user_id, "".join(code.split()))
    except TotpThrottled as exc:
        provider.audit.event("sign_in_failed", user_id=pending.user_id, reason="totp_throttled")
        response = _form(provider, request, pending, 429, THROTTLED)
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except TotpRejected:
        provider.audit.event("sign_in_failed", user_id=pending.user_id, reason="totp")
        return _form(provider, request, pending, 400, WRONG)
    user = provider.store.get_user(pending.user_id)
    if user is None or user.disabled:
        provider.audit.event("sign_in_failed", user_id=pending.user_id)
        return page("error.html", 403, message="This account cannot sign in.")
    if not use_pending(provider, pending):
        return _expired(provider)
    if recovery:
        provider.audit.event("totp_recovery_code_used", user_id=user.user_id)
    target = sign_in_target(provider, pending.request_id, pending.then)
    amr = with_second_factor(pending.amr)
    response = session_redirect(
        provider,
        user,
        amr,
        target,
        upstream=pending.upstream,
        user_agent=request.headers.get("user-agent", ""),
    )
    provider.cookies.clear(response, provider.cookies.second_factor_name)
    return response
