"""The account page's authenticator-app (TOTP) section: enrol, confirm, remove, new recovery codes.

Enrolling shows the secret once, as a QR code of its ``otpauth://`` URI and as text to type,
and the factor counts only once a first code from the app confirms it; the confirmation shows
the ten recovery codes, once. Enrolling, removing the factor and replacing the recovery codes
need a recent sign-in (``fresh_sign_in_seconds``, as for passkeys: PWL-24, PWL-34); a session
older than that is asked to sign in again first, and comes back to ``/account``. Every form
carries the CSRF token (WEB-08).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tessera.issue.cookies import posted_work
from tessera.issue.pages.account import SignedIn, _back, _sign_in_again, _signed_in
from tessera.issue.provider import Provider
from tessera.issue.web import NO_STORE, page
from tessera.passwordless.totp import TotpRejected, TotpThrottled
from tessera.store import User

__all__ = ["ROUTES", "confirm", "enrol", "regenerate_codes", "remove", "section"]

SECRET_GROUP = 4
SIGN_IN_AGAIN = "To change two-step verification, sign in again first. You will come back here."


def section(provider: Provider, user: User, *, fresh: bool) -> dict[str, Any]:
    """What ``account_totp.html`` shows: whether the user has a confirmed factor, and may change it."""
    factor = provider.store.get_totp(user.user_id)
    return {"enrolled": factor is not None and factor.confirmed, "fresh": fresh}


def _spaced(secret: str) -> str:
    return " ".join(secret[i : i + SECRET_GROUP] for i in range(0, len(secret), SECRET_GROUP))


def _fresh(provider: Provider, who: SignedIn) -> bool:
    return provider.passkeys.recently_signed_in(who.session.auth_time)


def _sign_in_first(provider: Provider) -> Response:
    return page(
        "reauthenticate.html",
        403,
        title="Sign in again",
        message=SIGN_IN_AGAIN,
        sign_in_again=_sign_in_again(provider),
    )


Change = Callable[[Provider, SignedIn, dict[str, str]], Response]


async def _posted(request: Request, change: Change) -> Response:
    """``change`` of the signed-in user, in one hop off the loop, once the form's token checks out."""
    return await posted_work(request, _as_signed_in, change)


def _as_signed_in(provider: Provider, request: Request, form: dict[str, str], change: Change) -> Response:
    who = _signed_in(provider, request)
    if who is None:
        return RedirectResponse(_sign_in_again(provider), 303, headers=NO_STORE)
    return change(provider, who, form)


def _codes_page(codes: tuple[str, ...], title: str, provider: Provider) -> Response:
    return page("account_totp_codes.html", title=title, codes=codes, base=provider.settings.base_path)


async def enrol(request: Request) -> Response:
    """POST ``/account/totp/enrol``: a new secret, shown once as a QR code and as text (recent sign-in)."""
    return await _posted(request, _enrol)


def _enrol(provider: Provider, who: SignedIn, form: dict[str, str]) -> Response:
    if not _fresh(provider, who):
        return _sign_in_first(provider)
    if section(provider, who.user, fresh=True)["enrolled"]:
        return _back(provider)  # remove the factor first: enrolling again would replace it
    enrolment = provider.totp.enrol(who.user)
    return page(
        "account_totp_enrol.html",
        base=provider.settings.base_path,
        csrf=form["csrf"],
        qr_svg=Markup(enrolment.qr_svg),  # noqa: S704 - segno's SVG of our own otpauth URI
        secret=_spaced(enrolment.secret),
        uri=enrolment.uri,
    )


async def confirm(request: Request) -> Response:
    """POST ``/account/totp/confirm``: the first code from the app turns the factor on; recovery codes."""
    return await _posted(request, _confirm)


def _confirm(provider: Provider, who: SignedIn, form: dict[str, str]) -> Response:
    def again(status: int, error: str) -> Response:
        return page(
            "account_totp_enrol.html",
            status,
            base=provider.settings.base_path,
            csrf=form["csrf"],
            error=error,
        )

    try:
        codes = provider.totp.confirm(who.user.user_id, "".join(form.get("code", "")[:64].split()))
    except TotpThrottled as exc:
        response = again(429, "Too many wrong codes. Wait a few minutes and try again.")
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    except TotpRejected:
        return again(400, "That code is not valid. Enter the code your app shows now, or start again.")
    provider.audit.event("totp_enrolled", user_id=who.user.user_id)
    return _codes_page(codes, "Two-step verification is on", provider)


async def remove(request: Request) -> Response:
    """POST ``/account/totp/remove``: delete the factor and its recovery codes (recent sign-in)."""
    return await _posted(request, _remove)


def _remove(provider: Provider, who: SignedIn, form: dict[str, str]) -> Response:
    if not _fresh(provider, who):
        return _sign_in_first(provider)
    provider.store.remove_totp(who.user.user_id)
    provider.audit.event("totp_removed", user_id=who.user.user_id)
    return _back(provider)


async def regenerate_codes(request: Request) -> Response:
    """POST ``/account/totp/recovery-codes``: ten new recovery codes, shown once (recent sign-in)."""
    return await _posted(request, _regenerate)


def _regenerate(provider: Provider, who: SignedIn, form: dict[str, str]) -> Response:
    if not _fresh(provider, who):
        return _sign_in_first(provider)
    try:
        codes = provider.totp.regenerate_recovery_codes(who.user.user_id)
    except TotpRejected:
        return _back(provider)
    provider.audit.event("totp_recovery_codes_regenerated", user_id=who.user.user_id)
    return _codes_page(codes, "New recovery codes", provider)


ROUTES = [
    Route("/account/totp/enrol", enrol, methods=["POST"]),
    Route("/account/totp/confirm", confirm, methods=["POST"]),
    Route("/account/totp/remove", remove, methods=["POST"]),
    Route("/account/totp/recovery-codes", regenerate_codes, methods=["POST"]),
]
