"""What the sign-in pages say when a request is refused for now: why, and when to come back."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from tessera.issue.provider import Provider
from tessera.passwordless import SignInThrottled

__all__ = ["come_back", "resend_refused", "throttled_context"]


def come_back(seconds: int) -> str:
    """When a refused request may be made again, in words: ``in 45 seconds``, ``in 12 minutes``.

    ``seconds`` is the ``Retry-After`` the answer carries; an hourly budget gives up to an hour.
    """
    if seconds < 60:
        return f"in {max(seconds, 1)} second{'' if seconds == 1 else 's'}"
    if seconds < 3600:
        minutes = math.ceil(seconds / 60)
        return f"in {minutes} minute{'' if minutes == 1 else 's'}"
    hours = max(1, round(seconds / 3600))
    return f"in {hours} hour{'' if hours == 1 else 's'}"


def _resend_slot(provider: Provider, wait: int) -> bool:
    """Whether ``wait`` is the resend throttle's (a code went out moments ago), not a budget's."""
    return wait <= provider.codes.budgets.resend_seconds + 1  # the resend slot's end, rounded up


def throttled_context(provider: Provider, exc: SignInThrottled, request_id: str) -> dict[str, str]:
    """The email page's ``error`` (and a link to the code form) for a refused code request.

    A wait no longer than the resend interval means a code was sent for this address moments
    ago (or an account-less challenge made: the answer is the same, so it reveals nothing): say
    that no new code was sent, when to ask again, and where to enter the earlier one. A longer
    wait is a spent budget: say when to come back.
    """
    wait = exc.retry_after_seconds
    if not _resend_slot(provider, wait):
        return {"error": f"Too many codes were requested. Try again {come_back(wait)}."}
    return {
        "error": (
            "A code was sent to this address moments ago, so no new code was sent. "
            f"Enter the code you have, or ask for a new one {come_back(wait)}."
        ),
        "code_link": f"{provider.settings.base_path}/signin/code?{urlencode({'request': request_id})}",
    }


def resend_refused(provider: Provider, exc: SignInThrottled) -> str:
    """The code page's message when "send a new code" was refused for now."""
    wait = exc.retry_after_seconds
    if not _resend_slot(provider, wait):
        return f"Too many codes were requested. No new code was sent; try again {come_back(wait)}."
    return f"A code was sent moments ago, so no new code was sent. You can ask for another {come_back(wait)}."
