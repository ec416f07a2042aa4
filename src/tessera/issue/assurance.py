"""What a sign-in proved: its RFC 8176 ``amr`` values, and the ``acr`` they amount to.

Each sign-in method has its methods (see docs/idp.md): an email code or magic link ``otp``
(RFC 8176 registers no ``email``); an SMS code ``otp`` and ``sms``; a passkey ``hwk`` or
``swk`` with ``user``, and ``mfa`` when the authenticator verified the user
(:func:`~tessera.passwordless.passkeys.passkey_amr`); an upstream provider ``fed``. The TOTP
step adds ``otp`` and ``mfa`` to the first factor's. A session whose methods include ``mfa``
has the multi-factor ``acr`` (the OpenID PAPE policy URI, which clients already send in
``acr_values``); any other the single-factor one.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ACR_MULTI_FACTOR",
    "ACR_SINGLE_FACTOR",
    "ACR_VALUES_SUPPORTED",
    "EMAIL_AMR",
    "FEDERATED_AMR",
    "SMS_AMR",
    "acr_of",
    "multi_factor",
    "requires_multi_factor",
    "with_second_factor",
]

ACR_MULTI_FACTOR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
ACR_SINGLE_FACTOR = "urn:tessera:single-factor"
ACR_VALUES_SUPPORTED = (ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR)

EMAIL_AMR = ("otp",)
SMS_AMR = ("otp", "sms")
FEDERATED_AMR = ("fed",)
_SECOND_FACTOR_AMR = ("otp", "mfa")


def multi_factor(amr: Sequence[str]) -> bool:
    """Whether a sign-in with these methods proved two factors."""
    return "mfa" in amr


def acr_of(amr: Sequence[str]) -> str:
    """The ``acr`` of a sign-in with these methods."""
    return ACR_MULTI_FACTOR if multi_factor(amr) else ACR_SINGLE_FACTOR


def with_second_factor(amr: Sequence[str]) -> tuple[str, ...]:
    """The methods of a first factor followed by the TOTP step (each value once, in order)."""
    return tuple(dict.fromkeys((*amr, *_SECOND_FACTOR_AMR)))


def requires_multi_factor(acr_values: str | None) -> bool:
    """Whether an ``acr_values`` request parameter (OIDC Core §3.1.2.1) can only be met by MFA.

    It can when it names the multi-factor value and not the single-factor one; values this
    provider does not know are ignored (the parameter asks for voluntary claims).
    """
    named = set((acr_values or "").split(" "))
    return ACR_MULTI_FACTOR in named and ACR_SINGLE_FACTOR not in named
