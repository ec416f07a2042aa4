"""Between a first factor and a session: the TOTP step of users who enrolled an authenticator app.

A sign-in whose methods are not already two factors (an email code, magic link or SMS code, or
a passkey without user verification) by a user with a confirmed TOTP factor starts no session.
The browser instead gets a cookie holding the pending sign-in (who, by which methods, where to
go next) under an HMAC of the provider's form key, so it can be neither forged nor altered, and
is sent to ``/signin/totp`` (:mod:`.totp`). The cookie is the binding to the browser that
passed the first factor; it lives :data:`PENDING_SECONDS` (its ``Max-Age`` and a time under
the HMAC), and the random id under the HMAC is remembered in the store's one-time ``jti`` table
when the step completes, so one pending sign-in makes one session at most. A client asking for
MFA in ``acr_values`` sends a signed-in browser with a single-factor session through the same
step (:mod:`tessera.issue.endpoints.authorize`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.encoding import EncodingError, b64url_decode, b64url_encode, json_object
from tessera.issue.assurance import multi_factor
from tessera.issue.cookies import form_token_matches
from tessera.issue.provider import Provider
from tessera.issue.web import NO_STORE
from tessera.store import User

__all__ = [
    "PENDING_SECONDS",
    "PendingSecondFactor",
    "begin_second_factor",
    "finish_first_factor",
    "needs_second_factor",
    "read_pending",
    "second_factor_url",
    "session_redirect",
    "use_pending",
]

PENDING_SECONDS = 300
_PURPOSE = "second-factor"
_JTI_ISSUER = "tessera:second-factor"
MAX_COOKIE = 2048


@dataclass(frozen=True)
class PendingSecondFactor:
    """A sign-in waiting for its second factor: the user, the first factor's methods, what follows.

    ``upstream`` is the upstream provider of a federated session being stepped up.
    """

    user_id: str
    amr: tuple[str, ...]
    request_id: str
    then: str
    expires_at: int
    nonce: str
    upstream: str | None = None


def needs_second_factor(provider: Provider, user: User, amr: Sequence[str]) -> bool:
    """Whether a sign-in by ``amr`` must still pass the TOTP step: not yet two factors, TOTP enrolled."""
    if multi_factor(amr):
        return False
    factor = provider.store.get_totp(user.user_id)
    return factor is not None and factor.confirmed


def second_factor_url(provider: Provider) -> str:
    """The TOTP step's page."""
    return f"{provider.settings.base_path}/signin/totp"


def session_redirect(
    provider: Provider, user: User, amr: Sequence[str], target: str, *, upstream: str | None = None
) -> Response:
    """A new session for ``user`` (never a planted id: WEB-06) and a 303 on to ``target``.

    ``upstream`` keeps a stepped-up federated session's mark (its tokens' ``idp``).
    """
    session_value = (
        provider.start_session(user, amr)
        if upstream is None
        else provider.start_federated_session(user, upstream, amr)
    )
    provider.audit.event("sign_in", user_id=user.user_id, amr=" ".join(amr))
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    provider.cookies.set(
        response, provider.cookies.session_name, session_value, provider.settings.session_seconds
    )
    provider.cookies.clear(response, provider.cookies.signin_name)
    return response


def begin_second_factor(
    provider: Provider,
    response: Response,
    user: User,
    amr: Sequence[str],
    *,
    request_id: str,
    then: str,
    upstream: str | None = None,
) -> None:
    """Set the pending sign-in's cookie on ``response`` (which goes to :func:`second_factor_url`)."""
    pending = PendingSecondFactor(
        user.user_id,
        tuple(amr),
        request_id,
        then,
        int(provider.now()) + PENDING_SECONDS,
        secrets.token_urlsafe(16),
        upstream,
    )
    payload = b64url_encode(json.dumps(pending.__dict__, separators=(",", ":")).encode())
    value = f"{payload}.{provider.cookies.bound_token(_PURPOSE, payload)}"
    provider.cookies.set(response, provider.cookies.second_factor_name, value, PENDING_SECONDS)
    provider.cookies.clear(response, provider.cookies.signin_name)


def finish_first_factor(
    provider: Provider, user: User, amr: Sequence[str], *, request_id: str, then: str, target: str
) -> Response:
    """After a first factor: a session and a 303 to ``target``, or a 303 to the TOTP step."""
    if not needs_second_factor(provider, user, amr):
        return session_redirect(provider, user, amr, target)
    provider.audit.event("second_factor_required", user_id=user.user_id)
    response = RedirectResponse(second_factor_url(provider), status_code=303, headers=NO_STORE)
    begin_second_factor(provider, response, user, amr, request_id=request_id, then=then)
    return response


def read_pending(provider: Provider, request: Request) -> PendingSecondFactor | None:
    """This browser's live pending sign-in, or None (absent, altered, malformed or expired).

    Raises BadParameters when the cookie is repeated or the Cookie header is oversized.
    """
    value = provider.cookies.read(request, provider.cookies.second_factor_name)
    if value is None or len(value) > MAX_COOKIE:
        return None
    payload, _, mac = value.partition(".")
    if not form_token_matches(provider.cookies.bound_token(_PURPOSE, payload), mac):
        return None
    try:
        fields = json_object(b64url_decode(payload))
        pending = PendingSecondFactor(
            str(fields["user_id"]),
            tuple(str(m) for m in fields["amr"]),
            str(fields["request_id"]),
            str(fields["then"]),
            int(fields["expires_at"]),
            str(fields["nonce"]),
            None if fields.get("upstream") is None else str(fields["upstream"]),
        )
    except (EncodingError, KeyError, TypeError, ValueError):
        return None
    return pending if pending.expires_at > provider.now() else None


def use_pending(provider: Provider, pending: PendingSecondFactor) -> bool:
    """Use the pending sign-in up; True for exactly one caller, while it lives."""
    return provider.store.remember_jti(_JTI_ISSUER, pending.nonce, pending.expires_at, provider.now())
