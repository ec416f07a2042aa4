"""The consent page: a signed-in user allows (or refuses) a third-party client what it asks for.

``/authorize`` sends the browser here, with the pending request's id, when a client that is
not first-party asks for scopes the user has not yet allowed it, or sends ``prompt=consent``.
The page names the client and lists only the new scopes (every requested one when nothing is
new), ``offline_access`` spelled out. Approve and Deny are POSTs whose token is bound to the
session and to the pending request (WEB-08, WEB-09): a GET, a cross-site POST, or a POST
without that token changes nothing. Approve records the consent in the store and finishes the
authorization (code, ``state``, ``iss``); Deny sends ``error=access_denied`` back to the client.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from tessera.issue.cookies import UNREADABLE_FORM, form_token_matches
from tessera.issue.endpoints.authorize import (
    AuthorizationRequest,
    Pending,
    load_pending,
    redirect_to_client,
    resume,
    validate,
)
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.web import BadParameters, error_page, page, read_form
from tessera.store import Session, User

__all__ = ["SCOPE_DESCRIPTIONS", "consent_decision", "consent_form", "describe_scope"]

SCOPE_DESCRIPTIONS = {
    "openid": "Know who you are (your account identifier)",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Keep access while you are away: offline access, until you withdraw it",
}
_EXPIRED = "This request has expired. Go back to the application and start again."
_FORGED = "The form expired or came from another site. Nothing was changed. Go back to the application."


def describe_scope(scope: str) -> str:
    """The sentence the consent page shows for ``scope``.

    A request with no scope at all is shown as ``openid``: the client still learns who signed in.
    """
    return SCOPE_DESCRIPTIONS.get(scope, f"Use the permission “{scope}”")


def _token(provider: Provider, session: Session, pending: Pending) -> str:
    return provider.cookies.bound_token("consent", session.session_hash, pending.record.request_hash)


def _context(
    provider: Provider, http: Request, pending: Pending | None
) -> tuple[Pending, AuthorizationRequest, Session, User] | Response:
    """The pending request, re-validated, and the signed-in user; or the page that says why not."""
    if pending is None:
        return error_page(_EXPIRED)
    verified = validate(provider, _query(pending))
    if not isinstance(verified, AuthorizationRequest):
        return verified
    try:
        found = provider.session_for(provider.cookies.read(http, provider.cookies.session_name))
    except BadParameters:
        return error_page("The request carries conflicting cookies.")
    if found is None:
        return error_page("You are not signed in. Go back to the application and start again.", 403)
    return pending, verified, found[0], found[1]


def _query(pending: Pending) -> str:
    return urlencode(dict(pending.record.params))


async def consent_form(request: Request) -> Response:
    """GET ``/consent?request=ID``: show what the client asks for. Changes nothing."""
    provider: Provider = request.app.state.provider
    return await off_loop(provider, _consent_page, provider, request)


def _consent_page(provider: Provider, request: Request) -> Response:
    context = _context(provider, request, load_pending(provider, request.query_params.get("request", "")))
    if isinstance(context, Response):
        return context
    pending, verified, session, user = context
    client = verified.client
    consent = provider.store.get_consent(user.user_id, client.client_id)
    allowed = set(consent.scopes) if consent is not None else set()
    new = [s for s in verified.scopes if s not in allowed]
    return page(
        "consent.html",
        client_name=client.name or client.client_id,
        client_id=client.client_id,
        destination=_origin(verified.redirect_uri),
        email=user.email,
        scopes=[describe_scope(s) for s in (new or verified.scopes or ("openid",))],
        again=consent is not None and not new,
        csrf=_token(provider, session, pending),
        request_id=pending.request_id,
        action=f"{provider.settings.base_path}/consent",
        form_targets=[verified.redirect_uri],
    )


async def consent_decision(request: Request) -> Response:
    """POST ``/consent``: Approve (record the consent, issue the code) or Deny (``access_denied``)."""
    provider: Provider = request.app.state.provider
    try:
        form = await read_form(request)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    if not provider.cookies.same_site(request):
        return error_page(_FORGED, 403)
    return await off_loop(provider, _decide, provider, request, form)


def _decide(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    context = _context(provider, request, load_pending(provider, form.get("request", "")))
    if isinstance(context, Response):
        return context
    pending, verified, session, user = context
    submitted = form.get("csrf", "")
    if not form_token_matches(_token(provider, session, pending), submitted):
        return error_page(_FORGED, 403)
    decision = form.get("decision")
    client_id = verified.client.client_id
    if decision == "deny":
        provider.store.delete_pending(pending.record.request_hash)
        provider.audit.event("consent_denied", user_id=user.user_id, client_id=client_id)
        return redirect_to_client(
            provider, verified, {"error": "access_denied", "error_description": "the user denied access"}
        )
    if decision != "approve":
        return error_page(UNREADABLE_FORM)
    return resume(provider, request, pending, consented=True)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"
