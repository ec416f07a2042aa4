"""``/logout``: OpenID Connect RP-Initiated Logout, confirmed by a POST from the user."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.errors import TesseraError
from tessera.issue.cookies import UNREADABLE_FORM
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.redirects import add_query, redirect_uri_matches
from tessera.issue.tokens import new_secret
from tessera.issue.web import (
    NO_STORE,
    BadParameters,
    error_page,
    page,
    parse_params,
    provider_of,
)
from tessera.store import ClientRecord, secret_hash
from tessera.verify import ANY, Verifier
from tessera.verify.jws import DEFAULT_MAX_TOKEN_BYTES

__all__ = ["logout", "logout_confirm"]


def _hint_audience(provider: Provider, hint: str) -> tuple[str, ...] | None:
    """The ``aud`` of an ID token this provider issued (expired up to 5 minutes); None if not one."""
    try:
        claims = Verifier(
            issuer=provider.settings.issuer,
            audience=ANY,
            token_type="JWT",
            keys=provider.keys,
            leeway_seconds=300,
            max_token_bytes=DEFAULT_MAX_TOKEN_BYTES,
            cache_size=0,
            clock=provider.clock,
        ).verify(hint)
    except TesseraError:
        return None
    return tuple(claims.audience)


def _logout_client(provider: Provider, params: dict[str, str]) -> ClientRecord | None:
    client_id = params.get("client_id")
    hint = params.get("id_token_hint")
    if client_id is None and hint is not None:
        audience = _hint_audience(provider, hint)
        client_id = audience[0] if audience else None
    return provider.store.get_client(client_id) if client_id else None


def _checked_logout(provider: Provider, params: dict[str, str]) -> Response | None:
    client_id, hint = params.get("client_id"), params.get("id_token_hint")
    if client_id is not None and hint is not None:
        # RP-Initiated Logout 1.0 §2: with both, the hint's aud must name that client.
        audience = _hint_audience(provider, hint)
        if audience is None or client_id not in audience:
            return error_page("The id_token_hint was not issued to this client_id.")
    target = params.get("post_logout_redirect_uri")
    if target is None:
        return None
    client = _logout_client(provider, params)
    if client is None or not any(redirect_uri_matches(target, r) for r in client.post_logout_redirect_uris):
        return error_page("The post_logout_redirect_uri is not registered for this client.")
    return None


_LOGOUT_PARAMS = ("client_id", "id_token_hint", "post_logout_redirect_uri", "state")


async def logout(request: Request) -> Response:
    """GET ``/logout``: validate the request, then ask the user to confirm (no state change on GET)."""
    provider = provider_of(request)
    try:
        params = parse_params(request.url.query)
    except BadParameters:
        return error_page("The request is malformed.")
    refused = await off_loop(provider, _checked_logout, provider, params)
    if refused is not None:
        return refused
    cookies = provider.cookies
    try:
        csrf_cookie = cookies.read(request, cookies.csrf_name)
    except BadParameters:
        csrf_cookie = None
    value = csrf_cookie or new_secret()
    kept = {k: params[k] for k in _LOGOUT_PARAMS if k in params}
    # form-action also governs the redirect that follows the POST: name the client's return address
    back = kept.get("post_logout_redirect_uri")
    response = page(
        "logout.html",
        form_targets=[back] if back is not None else [],
        csrf=cookies.csrf_token(value),
        action=f"{provider.settings.base_path}/logout",
        params=kept,
    )
    if csrf_cookie is None:
        cookies.set(response, cookies.csrf_name, value, provider.settings.session_seconds)
    return response


async def logout_confirm(request: Request) -> Response:
    """POST ``/logout``: end the session and its grants, clear the cookie, return to the client."""
    provider = provider_of(request)
    cookies = provider.cookies
    form = await cookies.posted_form(request)
    if isinstance(form, Response):
        return form
    try:
        session_value = cookies.read(request, cookies.session_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    return await off_loop(provider, _logout, provider, form, session_value)


def _logout(provider: Provider, form: dict[str, str], session_value: str | None) -> Response:
    refused = _checked_logout(provider, form)
    if refused is not None:
        return refused
    found = provider.session_for(session_value)
    if session_value is not None:
        provider.store.end_session(secret_hash(session_value))
    if found is not None:
        provider.audit.event("sign_out", user_id=found[1].user_id)
    target = form.get("post_logout_redirect_uri")
    if target is not None:
        extra = {"state": form["state"]} if "state" in form else {}
        response: Response = RedirectResponse(
            add_query(target, extra) if extra else target, 303, headers=NO_STORE
        )
    else:
        response = page("message.html", title="Signed out", message="You are signed out.")
    provider.cookies.clear(response, provider.cookies.session_name)
    return response
