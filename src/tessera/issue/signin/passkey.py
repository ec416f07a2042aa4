"""Sign-in with a passkey: the JSON endpoints behind the sign-in page's button and email autofill.

``POST /signin/passkey/options`` returns usernameless request options whose challenge is bound
to the browser's CSRF cookie; ``POST /signin/passkey`` verifies the assertion, starts a new
session (WEB-06) and tells the page where to go next: a passkey that verified its user is two
factors; one that did not is followed by the TOTP step when the user has one. A counter
regression is an audit event (``passkey_sign_count_regression``) as well as a refusal (PWL-29).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.issue.addresses import request_address
from tessera.issue.offload import off_loop
from tessera.issue.pages.page_json import PageRequest, json_error, read_page_json
from tessera.issue.provider import Provider
from tessera.issue.signin.email_code import sign_in_target
from tessera.issue.signin.second_factor import begin_second_factor, needs_second_factor, second_factor_url
from tessera.issue.web import json_response, provider_of

__all__ = ["passkey_options", "passkey_sign_in"]

OPTIONS_PER_MINUTE_FACTOR = 2  # the page asks once on load (autofill) and once per button press


async def passkey_options(request: Request) -> Response:
    """POST ``/signin/passkey/options``: request options for a usernameless passkey sign-in."""
    provider = provider_of(request)
    read = await read_page_json(provider, request)
    if isinstance(read, Response):
        return read
    return await off_loop(provider, _options, provider, request, read)


def _options(provider: Provider, request: Request, read: PageRequest) -> Response:
    address = request_address(request, provider.settings.proxy_networks)
    limit = provider.settings.sign_in_requests_per_minute_per_address * OPTIONS_PER_MINUTE_FACTOR
    wait = provider.limits.hit(f"passkey-options:{address}", limit)
    if wait is not None:
        response = json_error("slow_down", "Too many sign-in attempts. Wait a moment.", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    return json_response(provider.passkeys.sign_in_options(read.browser))


async def passkey_sign_in(request: Request) -> Response:
    """POST ``/signin/passkey``: verify the assertion, start a session, answer where to go next."""
    provider = provider_of(request)
    read = await read_page_json(provider, request)
    if isinstance(read, Response):
        return read
    return await off_loop(provider, _sign_in, provider, read, request.headers.get("user-agent", ""))


def _sign_in(provider: Provider, read: PageRequest, user_agent: str) -> Response:
    credential = read.body.get("credential")
    failed = json_error("passkey_rejected", "That passkey could not be used. Try again or use email.")
    if not isinstance(credential, dict):
        return failed
    from tessera.passwordless.passkeys import PasskeyRejected, SignCountRegression  # py_webauthn: on use

    try:
        result = provider.passkeys.sign_in(read.browser, credential)
    except SignCountRegression as exc:
        provider.audit.event("passkey_sign_count_regression", user_id=exc.credential.user_id)
        provider.audit.event("sign_in_failed", user_id=exc.credential.user_id, reason="passkey")
        return failed
    except PasskeyRejected:
        provider.audit.event("sign_in_failed", reason="passkey")
        return failed
    user = provider.store.get_user(result.user_id)
    if user is None or user.disabled:
        provider.audit.event("sign_in_failed", user_id=result.user_id, reason="passkey")
        return json_error("access_denied", "This account cannot sign in.", 403)
    request_id, then = read.text("request"), read.text("then")
    if needs_second_factor(provider, user, result.amr):
        provider.audit.event("second_factor_required", user_id=user.user_id, reason="passkey")
        response = json_response({"redirect": second_factor_url(provider)})
        begin_second_factor(provider, response, user, result.amr, request_id=request_id, then=then)
        return response
    session_value = provider.start_session(user, result.amr, "passkey", user_agent)
    provider.audit.event("sign_in", user_id=user.user_id, reason="passkey", amr=" ".join(result.amr))
    response = json_response({"redirect": sign_in_target(provider, request_id, then)})
    provider.cookies.set(
        response, provider.cookies.session_name, session_value, provider.settings.session_seconds
    )
    return response
