"""The account page's sessions, applications and account deletion (``/account``, signed in).

- **Sessions**: where the user is signed in (when, how, which browser; "this browser"), each
  with a button that ends it in the store, so it is signed out wherever it is, with every grant
  made in it; and one that ends every other session.
- **Applications**: the clients the user has allowed (consents) or that hold a live grant;
  removing one's access withdraws the consent and revokes every grant of the client for the
  user, so its refresh tokens are refused at ``/token`` (``invalid_grant``). Its access tokens
  are revoked in the store too, but an API that verifies them on its own accepts them until they
  expire (15 minutes by default).
- **Deletion**: after a recent sign-in (``fresh_sign_in_seconds``, as for passkeys) and typing
  the account's email address, the user and everything of theirs is erased
  (:meth:`~tessera.store.Accounts.erase_user`) and the browser signed out.

Sessions are named on the page by an HMAC of their id, never the id's hash the store keys them
by; every form carries the CSRF token (WEB-08), and each change is an audit event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.cookies import UNREADABLE_FORM, form_token_matches, posted_work
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.tokens import new_secret
from tessera.issue.web import NO_STORE, BadParameters, error_page, page, provider_of
from tessera.store import Grant, Session, User

__all__ = [
    "Visitor",
    "account_sections",
    "delete_account",
    "delete_account_form",
    "end_other_sessions",
    "end_session",
    "revoke_application",
]

METHODS = {
    "email_code": "a code by email",
    "magic_link": "a link by email",
    "sms": "a code by text message",
    "passkey": "a passkey",
}
DELETE_PAGE = "account_delete.html"


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment))


def _method(method: str) -> str:
    if method.startswith("upstream:"):
        return method.removeprefix("upstream:")
    return METHODS.get(method, "")


def _handle(provider: Provider, session: Session) -> str:
    """How the page names a session: an HMAC of its stored hash, so the page never shows a store key."""
    return provider.cookies.bound_token("account-session", session.session_hash)


@dataclass(frozen=True)
class Visitor:
    """The signed-in user reading the page, and the session they read it in."""

    session: Session
    user: User


def _visitor(provider: Provider, request: Request) -> Visitor | None:
    try:
        cookie = provider.cookies.read(request, provider.cookies.session_name)
    except BadParameters:
        return None
    found = provider.session_for(cookie)
    return Visitor(*found) if found is not None else None


def _sign_in_again(provider: Provider) -> str:
    return f"{provider.settings.base_path}/signin?then=account"


def _back(provider: Provider, anchor: str) -> Response:
    return RedirectResponse(f"{provider.settings.base_path}/account#{anchor}", 303, headers=NO_STORE)


def _applications(provider: Provider, user_id: str) -> list[dict[str, Any]]:
    """The clients with a consent or a live grant of the user, by name."""
    now = provider.now()
    consents = {c.client_id: c for c in provider.store.list_consents(user_id)}
    grants: dict[str, list[Grant]] = {}
    for grant in provider.store.list_grants(user_id, now):
        grants.setdefault(grant.client_id, []).append(grant)
    shown = []
    for client_id in sorted(set(consents) | set(grants)):
        client = provider.store.get_client(client_id)
        consent = consents.get(client_id)
        scopes = list(consent.scopes) if consent else []
        for grant in grants.get(client_id, []):
            scopes += [s for s in grant.scope.split() if s not in scopes]
        moments = [g.created_at for g in grants.get(client_id, [])] + (
            [consent.updated_at] if consent else []
        )
        shown.append(
            {
                "client_id": client_id,
                "name": (client.name if client is not None and client.name else client_id),
                "scopes": " ".join(scopes),
                "latest": _when(max(moments)),
                "offline": "offline_access" in scopes,
            }
        )
    return sorted(shown, key=lambda app: (str(app["name"]).lower(), app["client_id"]))


def account_sections(provider: Provider, session: Session) -> dict[str, Any]:
    """The context of the account page's sessions, applications and deletion sections."""
    sessions = [
        {
            "handle": _handle(provider, s),
            "current": s.session_hash == session.session_hash,
            "browser": s.user_agent or "A browser",
            "started": _when(s.auth_time),
            "method": _method(s.method),
        }
        for s in provider.store.list_sessions(session.user_id, provider.now())
    ]
    sessions.sort(key=lambda s: not s["current"])
    return {
        "sessions": sessions,
        "other_sessions": sum(not s["current"] for s in sessions),
        "applications": _applications(provider, session.user_id),
    }


async def end_session(request: Request) -> Response:
    """POST ``/account/sessions/end``: end one of the user's sessions (this one signs out here)."""
    return await posted_work(request, _end_session)


def _end_session(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    handle = form.get("session", "")
    who = _visitor(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    for session in provider.store.list_sessions(who.user.user_id, provider.now()):
        if form_token_matches(_handle(provider, session), handle):
            provider.store.end_session(session.session_hash)
            provider.audit.event("session_ended", user_id=who.user.user_id, how="account_page")
            if session.session_hash == who.session.session_hash:
                response = RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
                provider.cookies.clear(response, provider.cookies.session_name)
                return response
    return _back(provider, "sessions")


async def end_other_sessions(request: Request) -> Response:
    """POST ``/account/sessions/end-others``: end every session of the user but this one."""
    return await posted_work(request, _end_other_sessions)


def _end_other_sessions(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    who = _visitor(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    for session in provider.store.list_sessions(who.user.user_id, provider.now()):
        if session.session_hash != who.session.session_hash:
            provider.store.end_session(session.session_hash)
            provider.audit.event("session_ended", user_id=who.user.user_id, how="account_page_others")
    return _back(provider, "sessions")


async def revoke_application(request: Request) -> Response:
    """POST ``/account/applications/revoke``: withdraw a client's consent and revoke its grants."""
    return await posted_work(request, _revoke_application)


def _revoke_application(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    client_id = form.get("client", "")
    who = _visitor(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    if any(app["client_id"] == client_id for app in _applications(provider, who.user.user_id)):
        provider.store.revoke_consent(who.user.user_id, client_id)
        provider.audit.event("application_revoked", user_id=who.user.user_id, client_id=client_id)
    return _back(provider, "applications")


def _fresh(provider: Provider, who: Visitor) -> bool:
    return provider.passkeys.recently_signed_in(who.session.auth_time)


def _delete_page(
    provider: Provider, request: Request, who: Visitor, status: int = 200, **extra: Any
) -> Response:
    try:
        csrf_cookie = provider.cookies.read(request, provider.cookies.csrf_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    value = csrf_cookie or new_secret()
    response = page(
        DELETE_PAGE,
        status,
        base=provider.settings.base_path,
        csrf=provider.cookies.csrf_token(value),
        email=who.user.email,
        **extra,
    )
    if csrf_cookie is None:
        provider.cookies.set(response, provider.cookies.csrf_name, value, provider.settings.session_seconds)
    return response


def _sign_in_first(provider: Provider) -> Response:
    return page(
        "reauthenticate.html",
        403,
        title="Sign in again",
        message="To delete your account, sign in again first.",
        sign_in_again=_sign_in_again(provider),
    )


async def delete_account_form(request: Request) -> Response:
    """GET ``/account/delete``: what deleting means, and the form that confirms it (recent sign-in)."""
    provider = provider_of(request)
    return await off_loop(provider, _delete_account_form, provider, request)


def _delete_account_form(provider: Provider, request: Request) -> Response:
    who = _visitor(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    if not _fresh(provider, who):
        return _sign_in_first(provider)
    return _delete_page(provider, request, who)


async def delete_account(request: Request) -> Response:
    """POST ``/account/delete``: with a recent sign-in and the account's email typed, erase the user."""
    return await posted_work(request, _delete_account)


def _delete_account(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    typed = form.get("confirm_email", "")
    who = _visitor(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    if not _fresh(provider, who):
        return _sign_in_first(provider)
    if typed.strip().lower() != who.user.email.lower():
        return _delete_page(
            provider, request, who, 400, error="Type your email address exactly as shown to confirm."
        )
    provider.store.erase_user(who.user.user_id, provider.now())
    provider.audit.event("account_deleted", user_id=who.user.user_id)
    response = page(
        "message.html",
        title="Your account was deleted",
        message="Your account and everything in it are gone, and you are signed out everywhere.",
    )
    provider.cookies.clear(response, provider.cookies.session_name)
    return response
