"""The federation endpoints on Starlette: start, callback, link and unlink (from ``/account``).

Thin translations of HTTP to :class:`~.flow.Federation` and :mod:`.linking`. Every failure ends
on a page that says what happened and links back to the sign-in page (never a 500). Each
endpoint reads the request on the event loop and hands the rest (store calls, the upstream's
discovery, token, JWKS and userinfo requests) to one :func:`~tessera.issue.offload.off_loop`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.cookies import FORGED_FORM, form_token_matches
from tessera.issue.endpoints.authorize import load_pending
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.signin.federation.account_section import FORM_PURPOSE
from tessera.issue.signin.federation.errors import FederationError, FederationFailure
from tessera.issue.signin.federation.flow import LOGIN_SECONDS, split_binding
from tessera.issue.signin.federation.linking import resolve_user, unlink
from tessera.issue.signin.federation.upstreams import Upstream
from tessera.issue.web import NO_STORE, BadParameters, error_page, page, provider_of, read_form, split_params
from tessera.store import Session

__all__ = [
    "account_upstreams",
    "binding_cookie_name",
    "callback",
    "link",
    "start",
    "unlink_identity",
    "upstream_buttons",
]


def binding_cookie_name(provider: Provider) -> str:
    """The cookie that binds a sign-in at an upstream to the browser that started it."""
    return "__Host-tessera-upstream" if provider.settings.secure_cookies else "tessera-upstream"


def upstream_buttons(provider: Provider, request_id: str) -> list[dict[str, str]]:
    """The "Sign in with ..." links of the sign-in page."""
    base = provider.settings.base_path
    query = urlencode({"request": request_id}) if request_id else ""
    return [
        {"name": u.name, "href": f"{base}/upstream/{u.id}/start" + (f"?{query}" if query else "")}
        for u in provider.federation.upstreams.values()
    ]


def _set_binding(provider: Provider, response: Response, upstream: Upstream, value: str) -> None:
    name = binding_cookie_name(provider)
    if upstream.response_mode == "form_post" and provider.settings.secure_cookies:
        # The answer is a cross-site POST: only a SameSite=None cookie comes with it.
        response.headers.append(
            "set-cookie", f"{name}={value}; Path=/; Max-Age={LOGIN_SECONDS}; HttpOnly; SameSite=None; Secure"
        )
    else:
        provider.cookies.set(response, name, value, LOGIN_SECONDS)


_STATUS = {FederationFailure.UNKNOWN_UPSTREAM: 404, FederationFailure.UPSTREAM_UNREACHABLE: 502}


def _failure(provider: Provider, exc: FederationError, request_id: str) -> Response:
    status = _STATUS.get(exc.failure, 400)
    provider.audit.event("upstream_sign_in_failed", reason=exc.failure.value)
    base = provider.settings.base_path
    back = f"{base}/signin?{urlencode({'request': request_id})}" if request_id else f"{base}/signin"
    return page("upstream_error.html", status, message=exc.message, back=back)


async def start(request: Request) -> Response:
    """GET ``/upstream/{id}/start?request=ID``: send the browser to the upstream."""
    provider = provider_of(request)
    request_id = request.query_params.get("request", "")
    return await off_loop(provider, _start, provider, request.path_params["upstream_id"], request_id)


def _start(provider: Provider, upstream_id: str, request_id: str) -> Response:
    try:
        upstream = provider.federation.get(upstream_id)
        if request_id and load_pending(provider, request_id) is None:
            return error_page("This sign-in request has expired. Go back to the application and start again.")
        started = provider.federation.start(upstream, request_id=request_id)
    except FederationError as exc:
        return _failure(provider, exc, request_id)
    response = RedirectResponse(started.location, status_code=303, headers=NO_STORE)
    _set_binding(provider, response, upstream, started.binding_cookie)
    return response


async def _answer(request: Request, provider: Provider, upstream_id: str) -> dict[str, str]:
    """The upstream's answer: the query of a GET, or the form of a ``form_post`` POST."""
    if request.method == "POST":
        upstream = provider.federation.get(upstream_id)
        if upstream.response_mode != "form_post":
            raise BadParameters("this upstream answers with a redirect, not a form")
        return await read_form(request)
    params, repeated = split_params(request.url.query)
    if repeated:
        raise BadParameters("a parameter is repeated")
    return params


async def callback(request: Request) -> Response:
    """GET or POST ``/upstream/{id}/callback``: check the answer, sign in (or link), resume."""
    provider = provider_of(request)
    upstream_id = request.path_params["upstream_id"]
    cookie_name = binding_cookie_name(provider)
    try:
        cookie = provider.cookies.read(request, cookie_name)
        params = await _answer(request, provider, upstream_id)
    except BadParameters:
        return error_page("The answer from the sign-in provider is malformed.")
    except FederationError as exc:
        return _failure(provider, exc, "")
    return await off_loop(provider, _finish, provider, upstream_id, params, cookie)


def _finish(provider: Provider, upstream_id: str, params: dict[str, str], cookie: str | None) -> Response:
    cookie_name = binding_cookie_name(provider)
    request_id = split_binding(cookie)[1]
    try:
        finished = provider.federation.finish(upstream_id, params, cookie)
        upstream = provider.federation.get(upstream_id)
        user = resolve_user(provider.federation.store, provider.audit, upstream, finished, provider.now())
        provider.federation.keep_tokens(finished, user.user_id)
    except FederationError as exc:
        return _failure(provider, exc, request_id)
    base = provider.settings.base_path
    if finished.linking_user_id is not None:
        response: Response = _account(provider)
        provider.cookies.clear(response, cookie_name)
        return response
    session_value = provider.start_federated_session(user, upstream_id)
    provider.audit.event("sign_in", user_id=user.user_id)
    target = (
        f"{base}/authorize/continue?{urlencode({'request': finished.request_id})}"
        if finished.request_id
        else f"{base}/signin/done"
    )
    # A page, not a redirect: the upstream's last form (its sign-in) may limit where its
    # redirects go (CSP form-action), and the application's redirect URI is not on its list.
    response = page("upstream_continue.html", target=target)
    provider.cookies.set(
        response, provider.cookies.session_name, session_value, provider.settings.session_seconds
    )
    provider.cookies.clear(response, cookie_name)
    return response


def _signed_in(provider: Provider, request: Request) -> tuple[str, Session] | None:
    """(session cookie value, session) of the browser's live session, or None."""
    try:
        value = provider.cookies.read(request, provider.cookies.session_name)
    except BadParameters:
        return None
    found = provider.session_for(value)
    return (str(value), found[0]) if found is not None else None


def _account(provider: Provider) -> Response:
    return RedirectResponse(f"{provider.settings.base_path}/account", status_code=303, headers=NO_STORE)


async def account_upstreams(request: Request) -> Response:
    """GET ``/account/upstreams``: the linked sign-ins are a section of ``/account`` now."""
    provider = provider_of(request)
    return RedirectResponse(
        f"{provider.settings.base_path}/account#linked-sign-ins", status_code=303, headers=NO_STORE
    )


async def _posted(request: Request) -> dict[str, str] | None:
    """The POSTed form, or None when it cannot be read (:func:`_account_form` says so)."""
    try:
        return await read_form(request)
    except BadParameters:
        return None


def _account_form(
    provider: Provider, request: Request, form: dict[str, str] | None
) -> tuple[dict[str, str], Session] | Response:
    """The POSTed form of the account page, its token bound to the session (WEB-08): (form, session)."""
    if not provider.federation.upstreams:
        return error_page("No other sign-in is set up.", 404)
    signed_in = _signed_in(provider, request)
    if signed_in is None:
        return error_page("Sign in first.", 403)
    if form is None:
        return error_page("The form could not be read.")
    expected = provider.cookies.bound_token(FORM_PURPOSE, signed_in[0])
    if not provider.cookies.same_site(request) or not form_token_matches(expected, form.get("csrf", "")):
        return error_page(FORGED_FORM, 403)
    return form, signed_in[1]


async def link(request: Request) -> Response:
    """POST ``/upstream/{id}/link``: a signed-in user proves an upstream identity to link it."""
    provider = provider_of(request)
    form = await _posted(request)
    return await off_loop(provider, _link, provider, request, form)


def _link(provider: Provider, request: Request, form: dict[str, str] | None) -> Response:
    checked = _account_form(provider, request, form)
    if isinstance(checked, Response):
        return checked
    try:
        upstream = provider.federation.get(request.path_params["upstream_id"])
        started = provider.federation.start(upstream, request_id="", linking_user_id=checked[1].user_id)
    except FederationError as exc:
        return _failure(provider, exc, "")
    response = RedirectResponse(started.location, status_code=303, headers=NO_STORE)
    _set_binding(provider, response, upstream, started.binding_cookie)
    return response


async def unlink_identity(request: Request) -> Response:
    """POST ``/upstream/{id}/unlink``: remove one of the signed-in user's linked identities.

    The last one goes only after a recent sign-in, as the last passkey does (PWL-34).
    """
    provider = provider_of(request)
    posted = await _posted(request)
    return await off_loop(provider, _unlink, provider, request, posted)


def _unlink(provider: Provider, request: Request, posted: dict[str, str] | None) -> Response:
    checked = _account_form(provider, request, posted)
    if isinstance(checked, Response):
        return checked
    form, session = checked
    user = provider.store.get_user(session.user_id)
    if user is None:
        return _account(provider)
    upstream_id, subject = request.path_params["upstream_id"], form.get("subject", "")
    links = provider.federation.store.upstream_links_of(user.user_id)
    last = [(link.upstream_id, link.subject) for link in links] == [(upstream_id, subject)]
    if last and not provider.passkeys.recently_signed_in(session.auth_time):
        return page(
            "reauthenticate.html",
            403,
            title="Sign in again",
            message="This is the last sign-in linked to your account. To unlink it, sign in again first.",
            sign_in_again=f"{provider.settings.base_path}/signin?then=account",
        )
    unlink(provider.federation.store, provider.audit, user, upstream_id, subject)
    return _account(provider)
