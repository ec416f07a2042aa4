"""Where a sign-in code went, for the code page to show and to send a new code to.

The store reads a challenge's address only while it counts an attempt, so the browser keeps it
instead: an HttpOnly cookie holding the address (the email, or ``tel:`` and the E.164 number)
and a MAC binding it to this browser's challenge id. The page shows it autoescaped; a cookie
from another sign-in, or one edited by hand, shows nothing and sends nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.encoding import EncodingError, b64url_decode, b64url_encode
from tessera.issue.cookies import form_token_matches
from tessera.issue.provider import Provider
from tessera.issue.web import BadParameters
from tessera.passwordless.email_code import Challenge

__all__ = ["forget_address", "recall_address", "remember_address"]

_PURPOSE = "signin-address"


def _mac(provider: Provider, challenge_id: str, account: str) -> str:
    return provider.cookies.bound_token(_PURPOSE, challenge_id, account)


def remember_address(provider: Provider, response: Response, challenge: Challenge) -> None:
    """Keep ``challenge``'s address in this browser for as long as its code lives."""
    account = challenge.email
    value = f"{b64url_encode(account.encode())}.{_mac(provider, challenge.challenge_id, account)}"
    provider.cookies.set(response, provider.cookies.address_name, value, provider.codes.ttl_seconds)


def recall_address(provider: Provider, request: Request) -> str | None:
    """The address this browser's current sign-in code went to, or None."""
    try:
        challenge_id = provider.cookies.read(request, provider.cookies.signin_name)
        value = provider.cookies.read(request, provider.cookies.address_name)
    except BadParameters:
        return None
    if challenge_id is None or value is None:
        return None
    encoded, _, mac = value.partition(".")
    try:
        account = b64url_decode(encoded).decode("utf-8")
    except (EncodingError, UnicodeDecodeError):
        return None
    return account if form_token_matches(_mac(provider, challenge_id, account), mac) else None


def forget_address(provider: Provider, response: Response) -> None:
    """Drop the address cookie (the sign-in it belonged to is over)."""
    provider.cookies.clear(response, provider.cookies.address_name)
