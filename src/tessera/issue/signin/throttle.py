"""What the email form says when no code was sent because one was asked for moments ago."""

from __future__ import annotations

from urllib.parse import urlencode

from tessera.issue.provider import Provider
from tessera.passwordless import SignInThrottled

__all__ = ["throttled_context"]


def throttled_context(provider: Provider, exc: SignInThrottled, request_id: str) -> dict[str, str]:
    """The email page's ``error`` (and a link to the code form) for a refused code request.

    A wait no longer than the resend interval means a code was sent for this address moments
    ago (or an account-less challenge made: the answer is the same, so it reveals nothing): say
    that no new code was sent, when to ask again, and where to enter the earlier one.
    """
    wait = exc.retry_after_seconds
    if wait > provider.codes.budgets.resend_seconds + 1:  # the resend slot's end, rounded up
        return {"error": "Too many codes were requested. Wait a moment and try again."}
    unit = "second" if wait == 1 else "seconds"
    return {
        "error": (
            "A code was sent to this address moments ago, so no new code was sent. "
            f"Enter the code you have, or ask for a new one in {wait} {unit}."
        ),
        "code_link": f"{provider.settings.base_path}/signin/code?{urlencode({'request': request_id})}",
    }
