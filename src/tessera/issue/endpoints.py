"""``/userinfo``, ``/revoke`` (RFC 7009), ``/introspect`` (RFC 7662) and ``/logout`` (RP-initiated)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import TesseraError, TokenError
from ..protect.bearer import parse_authorization
from ..store import AccessTokenRecord, ClientRecord, RefreshState, secret_hash
from ..verify import ANY, Verifier
from .client_auth import authenticated, client_form
from .cookies import UNREADABLE_FORM
from .offload import off_loop
from .provider import Provider
from .redirects import add_query, redirect_uri_matches
from .tokens import new_secret, user_claims
from .web import (
    NO_STORE,
    BadParameters,
    error_page,
    json_response,
    oauth_error,
    page,
    parse_params,
)

__all__ = ["introspect", "logout", "logout_confirm", "revoke", "userinfo"]

MAX_TOKEN = 8192


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


def _bearer_error(error: str, status: int) -> Response:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return json_response({"error": error} if error else {}, status, {"WWW-Authenticate": challenge})


async def userinfo(request: Request) -> Response:
    """GET or POST ``/userinfo`` with a bearer access token carrying scope ``openid``."""
    provider = _provider(request)
    headers = request.headers.getlist("authorization")
    if len(headers) > 1:
        return _bearer_error("invalid_request", 400)
    try:
        token = parse_authorization(headers[0]) if headers else None
    except TokenError as exc:  # the same header rules as every protected route (RFC 6750 §2.1)
        return _bearer_error(exc.error, exc.status)
    if token is None:
        return _bearer_error("", 401)
    return await off_loop(provider, _userinfo, provider, token)


def _userinfo(provider: Provider, token: str) -> Response:
    try:
        claims = provider.check_access_token(token)
    except TokenError:
        return _bearer_error("invalid_token", 401)
    if "openid" not in claims.scopes:
        return _bearer_error("insufficient_scope", 403)
    user = provider.store.get_user(claims.subject or "")
    if user is None or user.disabled:
        return _bearer_error("invalid_token", 401)
    return json_response({"sub": user.user_id, **user_claims(user, claims.scopes)})


def _client_request(
    provider: Provider, request: Request, form: dict[str, str]
) -> tuple[ClientRecord, dict[str, str]] | Response:
    client = authenticated(provider, request, form)
    if isinstance(client, Response):
        return client
    if "token" not in form or len(form["token"]) > MAX_TOKEN:
        return oauth_error("invalid_request", "token is required")
    return client, form


async def revoke(request: Request) -> Response:
    """POST ``/revoke``: 200 whatever the token was, acting only on the caller's own tokens."""
    provider = _provider(request)
    form = await client_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, _revoke, provider, request, form)


def _revoke(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    outcome = _client_request(provider, request, form)
    if isinstance(outcome, Response):
        return outcome
    client, form = outcome
    value = form["token"]
    refresh = provider.store.get_refresh(secret_hash(value))
    if refresh is not None:
        if refresh.client_id == client.client_id:
            provider.store.revoke_grant(refresh.grant_id)
            provider.audit.event("token_revoked", client_id=client.client_id, grant_id=refresh.grant_id)
    elif value.count(".") == 2:
        try:
            claims = provider.verifier.verify(value)
        except TesseraError:
            claims = None
        if claims is not None and claims.client_id == client.client_id and isinstance(claims.get("jti"), str):
            provider.store.revoke_access_token(
                AccessTokenRecord(claims["jti"], client.client_id, None, claims.expires_at)
            )
            provider.audit.event("token_revoked", client_id=client.client_id)
    return Response(status_code=200, headers=NO_STORE)


def _introspect_refresh(provider: Provider, client: ClientRecord, value: str) -> dict[str, Any] | None:
    record = provider.store.get_refresh(secret_hash(value))
    now = provider.now()
    if record is None or record.client_id != client.client_id:
        return None
    grant = provider.store.get_grant(record.grant_id)
    if record.state is not RefreshState.ACTIVE or record.expires_at <= now or grant is None or grant.revoked:
        return None
    body: dict[str, Any] = {
        "active": True,
        "token_type": "refresh_token",
        "client_id": record.client_id,
        "scope": grant.scope,
        "exp": int(record.expires_at),
        "iat": int(record.issued_at),
        "iss": provider.settings.issuer,
    }
    if grant.user_id is not None:
        body["sub"] = grant.user_id
    return body


async def introspect(request: Request) -> Response:
    """POST ``/introspect``: confidential clients only; tokens of other clients read as inactive."""
    provider = _provider(request)
    form = await client_form(request)
    if isinstance(form, Response):
        return form
    return await off_loop(provider, _introspect, provider, request, form)


def _introspect(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    outcome = _client_request(provider, request, form)
    if isinstance(outcome, Response):
        return outcome
    client, form = outcome
    if client.public:
        return oauth_error("invalid_client", None, 401)
    value = form["token"]
    body = _introspect_refresh(provider, client, value)
    if body is None and value.count(".") == 2:
        try:
            claims = provider.check_access_token(value)
        except TokenError:
            claims = None
        if claims is not None and (
            claims.client_id == client.client_id or client.client_id in claims.audience
        ):
            body = {"active": True, "token_type": "Bearer", **dict(claims.raw)}
    return json_response(body or {"active": False})


def _hint_audience(provider: Provider, hint: str) -> tuple[str, ...] | None:
    """The ``aud`` of an ID token this provider issued (expired up to 5 minutes); None if not one."""
    try:
        claims = Verifier(
            issuer=provider.settings.issuer,
            audience=ANY,
            token_type="JWT",
            keys=provider.keys,
            leeway_seconds=300,
            max_token_bytes=MAX_TOKEN,
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
    provider = _provider(request)
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
    provider = _provider(request)
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
