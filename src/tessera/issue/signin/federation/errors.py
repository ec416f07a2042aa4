"""Why a sign-in at an upstream provider failed: a closed set of stable codes."""

from __future__ import annotations

from enum import StrEnum

from tessera.errors import TesseraError

__all__ = ["FederationError", "FederationFailure"]


class FederationFailure(StrEnum):
    """Why an upstream's answer was refused. The set is closed."""

    UNKNOWN_UPSTREAM = "unknown_upstream"
    UPSTREAM_ERROR = "upstream_error"
    STATE_MISSING = "state_missing"
    STATE_UNKNOWN = "state_unknown"
    MIX_UP = "mix_up"
    WRONG_BROWSER = "wrong_browser"
    WRONG_ISS = "wrong_iss"
    CODE_MISSING = "code_missing"
    TOKEN_REFUSED = "token_refused"
    UPSTREAM_UNREACHABLE = "upstream_unreachable"
    ID_TOKEN_INVALID = "id_token_invalid"
    NONCE_MISMATCH = "nonce_mismatch"
    USERINFO_MISMATCH = "userinfo_mismatch"
    NO_VERIFIED_EMAIL = "no_verified_email"
    ACCOUNT_EXISTS = "account_exists"
    SIGN_UP_CLOSED = "sign_up_closed"
    ALREADY_LINKED = "already_linked"
    ACCOUNT_DISABLED = "account_disabled"
    MISCONFIGURED = "misconfigured"


_MESSAGES = {
    FederationFailure.UNKNOWN_UPSTREAM: "This sign-in option is not available.",
    FederationFailure.UPSTREAM_ERROR: "{name} did not sign you in.",
    FederationFailure.STATE_MISSING: "The answer from {name} is incomplete.",
    FederationFailure.STATE_UNKNOWN: "This sign-in with {name} has expired or was already used.",
    FederationFailure.MIX_UP: "The answer came back to the wrong sign-in option.",
    FederationFailure.WRONG_BROWSER: "This sign-in with {name} was started in another browser.",
    FederationFailure.WRONG_ISS: "The answer did not come from {name}.",
    FederationFailure.CODE_MISSING: "The answer from {name} is incomplete.",
    FederationFailure.TOKEN_REFUSED: "{name} did not confirm the sign-in.",
    FederationFailure.UPSTREAM_UNREACHABLE: "{name} could not be reached.",
    FederationFailure.ID_TOKEN_INVALID: "The identity {name} sent could not be verified.",
    FederationFailure.NONCE_MISMATCH: "The identity {name} sent belongs to another sign-in.",
    FederationFailure.USERINFO_MISMATCH: "The profile {name} sent belongs to someone else.",
    FederationFailure.NO_VERIFIED_EMAIL: "{name} gave no verified email address for this account.",
    FederationFailure.ACCOUNT_EXISTS: (
        "An account with this email address already exists. Sign in to it first, then link "
        "{name} from your account page."
    ),
    FederationFailure.SIGN_UP_CLOSED: "There is no account for this {name} identity.",
    FederationFailure.ALREADY_LINKED: "This {name} identity is already linked to another account.",
    FederationFailure.ACCOUNT_DISABLED: "This account cannot sign in.",
    FederationFailure.MISCONFIGURED: "Sign-in with {name} is not set up correctly.",
}


class FederationError(TesseraError):
    """A sign-in at an upstream failed; ``failure`` says why, ``message`` is safe to show a person."""

    code = "federation_failed"

    def __init__(self, failure: FederationFailure, name: str = "the provider", detail: str = "") -> None:
        self.failure = failure
        self.message = _MESSAGES[failure].format(name=name)
        self.detail = detail
        super().__init__(f"{failure.value}: {detail}" if detail else failure.value)
