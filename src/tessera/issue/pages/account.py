"""The account page (``/account``, signed in): for now its passkeys section.

The page lists the user's passkeys and adds, renames and removes them. Adding one, and removing
the last one, needs a recent sign-in (PWL-34): a session older than the policy's
``fresh_sign_in_seconds`` is sent to sign in again first, and comes back here. The forms carry
the CSRF token (WEB-08); the add ceremony's challenge is bound to the session cookie.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.cookies import UNREADABLE_FORM, posted_work
from tessera.issue.offload import off_loop
from tessera.issue.pages.account_sessions import account_sections
from tessera.issue.pages.page_json import PageRequest, json_error, read_page_json
from tessera.issue.provider import Provider
from tessera.issue.signin.federation.account_section import linked_sign_ins
from tessera.issue.tokens import new_secret
from tessera.issue.web import NO_STORE, BadParameters, error_page, json_response, page, provider_of
from tessera.store import Session, User

__all__ = ["account_page", "add_passkey", "passkey_options", "remove_passkey", "rename_passkey"]


@dataclass(frozen=True)
class SignedIn:
    """The session reading the page, its user, and the session cookie's value (the binding)."""

    session: Session
    user: User
    cookie: str


def _signed_in(provider: Provider, request: Request) -> SignedIn | None:
    try:
        cookie = provider.cookies.read(request, provider.cookies.session_name)
    except BadParameters:
        return None
    found = provider.session_for(cookie)
    if found is None or cookie is None:
        return None
    return SignedIn(found[0], found[1], cookie)


def _sign_in_again(provider: Provider) -> str:
    return f"{provider.settings.base_path}/signin?then=account"


def _back(provider: Provider) -> Response:
    return RedirectResponse(f"{provider.settings.base_path}/account", 303, headers=NO_STORE)


def _when(moment: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(moment)) if moment is not None else "never"


async def account_page(request: Request) -> Response:
    """GET ``/account``: the signed-in user's passkeys, with the forms that change them."""
    provider = provider_of(request)
    return await off_loop(provider, _account_page, provider, request)


def _account_page(provider: Provider, request: Request) -> Response:
    who = _signed_in(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    try:
        csrf_cookie = provider.cookies.read(request, provider.cookies.csrf_name)
    except BadParameters:
        return error_page(UNREADABLE_FORM)
    from tessera.issue.pages.account_totp import section as totp_section  # it imports this module

    value = csrf_cookie or new_secret()
    fresh = provider.passkeys.recently_signed_in(who.session.auth_time)
    passkeys = [
        {
            "id": p.credential_id,
            "name": p.name,
            "created": _when(p.created_at),
            "last_used": _when(p.last_used_at),
            "kind": "synced" if p.backup_eligible else "this device only",
            "backed_up": p.backed_up,
        }
        for p in provider.store.list_passkeys(who.user.user_id)
    ]
    linked = linked_sign_ins(provider, who.cookie, who.user)
    response = page(
        "account.html",
        form_targets=linked.form_targets if linked else (),
        linked=linked.context() if linked else None,
        base=provider.settings.base_path,
        csrf=provider.cookies.csrf_token(value),
        email=who.user.email,
        passkeys=passkeys,
        fresh=fresh,
        sign_in_again=_sign_in_again(provider),
        **account_sections(provider, who.session),
        totp=totp_section(provider, who.user, fresh=fresh),
    )
    if csrf_cookie is None:
        provider.cookies.set(response, provider.cookies.csrf_name, value, provider.settings.session_seconds)
    return response


async def passkey_options(request: Request) -> Response:
    """POST ``/account/passkeys/options``: creation options for a new passkey (recent sign-in only)."""
    provider = provider_of(request)
    read = await read_page_json(provider, request)
    if isinstance(read, Response):
        return read
    return await off_loop(provider, _registration_options, provider, request)


def _registration_options(provider: Provider, request: Request) -> Response:
    who = _signed_in(provider, request)
    if who is None or not provider.passkeys.recently_signed_in(who.session.auth_time):
        return json_error(
            "login_required", "Sign in again to add a passkey.", 403, redirect=_sign_in_again(provider)
        )
    return json_response(provider.passkeys.registration_options(who.user, who.cookie))


async def add_passkey(request: Request) -> Response:
    """POST ``/account/passkeys``: verify the new credential and store it under its name."""
    provider = provider_of(request)
    read = await read_page_json(provider, request)
    if isinstance(read, Response):
        return read
    return await off_loop(provider, _add_passkey, provider, request, read)


def _add_passkey(provider: Provider, request: Request, read: PageRequest) -> Response:
    who = _signed_in(provider, request)
    if who is None:
        return json_error("login_required", "Sign in again.", 403, redirect=_sign_in_again(provider))
    credential = read.body.get("credential")
    failed = json_error("passkey_rejected", "The passkey could not be added. Try again.")
    if not isinstance(credential, dict):
        return failed
    from tessera.passwordless.passkeys import PasskeyRejected  # py_webauthn: only where passkeys are used

    try:
        added = provider.passkeys.register(who.user, who.cookie, credential, read.text("name"))
    except PasskeyRejected:
        return failed
    provider.audit.event("passkey_registered", user_id=added.user_id)
    return json_response({"redirect": f"{provider.settings.base_path}/account"})


async def rename_passkey(request: Request) -> Response:
    """POST ``/account/passkeys/rename``: give one of the user's passkeys a new name."""
    return await posted_work(request, _rename_passkey)


def _rename_passkey(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    who = _signed_in(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    name = provider.passkeys.clean_name(form.get("name", ""))
    if name:
        provider.store.rename_passkey(who.user.user_id, form.get("credential", ""), name)
    return _back(provider)


async def remove_passkey(request: Request) -> Response:
    """POST ``/account/passkeys/remove``: delete a passkey; the last one only after a recent sign-in."""
    return await posted_work(request, _remove_passkey)


def _remove_passkey(provider: Provider, request: Request, form: dict[str, str]) -> Response:
    who = _signed_in(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    fresh = provider.passkeys.recently_signed_in(who.session.auth_time)
    credential_id = form.get("credential", "")
    if provider.store.remove_passkey(who.user.user_id, credential_id, allow_last=fresh):
        provider.audit.event("passkey_removed", user_id=who.user.user_id)
        return _back(provider)
    owned = {p.credential_id for p in provider.store.list_passkeys(who.user.user_id)}
    if credential_id in owned:
        return page(
            "reauthenticate.html",
            403,
            title="Sign in again",
            message="This is your last passkey. To remove it, sign in again first.",
            sign_in_again=_sign_in_again(provider),
        )
    return _back(provider)
