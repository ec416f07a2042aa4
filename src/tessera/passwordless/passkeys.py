"""Passkeys (WebAuthn Level 2): registration and usernameless sign-in, with py_webauthn.

The ceremonies' cryptography and structure checks are py_webauthn's; this module adds the
policy around them. A challenge is 32 random bytes, stored only as a hash, bound to the browser
session that asked for it and to one purpose, valid for five minutes, and used up by a
conditional delete on the first response that names it, whether that response verifies or not
(PWL-28). The expected origins and RP ID come from the issuer (PWL-25, PWL-26); user
verification is required by default (PWL-30); ``crossOrigin`` and duplicate members in
``clientDataJSON`` are refused (PWL-36, PWL-35). A signature counter at or below the stored one
fails the sign-in as a probable clone (PWL-29), and a credential's backup eligibility may not
change after registration (PWL-31). No decision rests on the AAGUID or attestation (PWL-33).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..encoding import EncodingError, b64url_decode, b64url_encode, json_object
from ..errors import ConfigurationError, TesseraError
from ..store import PasskeyChallenge, PasskeyCredential, Store, User, secret_hash

__all__ = [
    "REGISTER",
    "SIGN_IN",
    "PasskeyPolicy",
    "PasskeyRejected",
    "PasskeySignIn",
    "Passkeys",
    "RelyingParty",
    "SignCountRegression",
    "passkey_amr",
]

REGISTER = "register"
SIGN_IN = "sign_in"
DEV_RP_ID = "localhost"
# ES256 first (every platform authenticator), then EdDSA and RS256 (Windows Hello).
ALGORITHMS = (
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
)
MAX_CLIENT_DATA_BYTES = 4096
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


class PasskeyRejected(TesseraError):
    """The passkey response is forged, stale, malformed, or not allowed. Deliberately unspecific.

    ``reason`` says why, for logs and tests; it is never shown to the user.
    """

    code = "passkey_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__("the passkey could not be verified")
        self.reason = reason


class SignCountRegression(PasskeyRejected):
    """A genuine signature whose counter did not move forward: the credential may be cloned."""

    code = "passkey_sign_count_regression"

    def __init__(self, credential: PasskeyCredential, sign_count: int) -> None:
        super().__init__(f"signCount {sign_count} is not above the stored {credential.sign_count}")
        self.credential = credential


@dataclass(frozen=True)
class RelyingParty:
    """Who the ceremonies are for: the RP ID, its display name and the origins allowed to run them."""

    rp_id: str
    name: str
    origins: tuple[str, ...]

    @classmethod
    def for_issuer(cls, issuer: str, *, name: str = "Tessera") -> RelyingParty:
        """The relying party of a provider: RP ID the issuer's host, origin the issuer's origin.

        A plain-http issuer is a loopback one (``tessera dev``; the settings refuse any other):
        there the RP ID is ``localhost``, since browsers refuse an IP address as an RP ID, and
        the one allowed origin is ``http://localhost:PORT`` with the issuer's port. Open the dev
        server as ``http://localhost:PORT`` to use passkeys, whatever loopback address it binds.
        """
        parts = urlsplit(issuer)
        host = parts.hostname or ""
        if not host:
            raise ConfigurationError("the issuer has no host to derive the passkey RP ID from")
        if parts.scheme == "http":
            port = f":{parts.port}" if parts.port else ""
            return cls(DEV_RP_ID, name, (f"http://{DEV_RP_ID}{port}",))
        return cls(host, name, (f"{parts.scheme}://{parts.netloc}",))


@dataclass(frozen=True)
class PasskeyPolicy:
    """The ceremonies' rules. ``require_user_verification`` off accepts presence-only passkeys.

    ``fresh_sign_in_seconds``: how recent a sign-in must be to add a passkey or remove the last
    one (PWL-34).
    """

    challenge_seconds: int = 300
    require_user_verification: bool = True
    fresh_sign_in_seconds: int = 600
    max_passkeys_per_user: int = 20
    max_name_length: int = 64
    max_credential_id_bytes: int = 1023


@dataclass(frozen=True)
class PasskeySignIn:
    """A verified passkey sign-in: whose credential it was, and how the user was checked."""

    user_id: str
    credential: PasskeyCredential
    user_verified: bool

    @property
    def amr(self) -> tuple[str, ...]:
        """The RFC 8176 ``amr`` values of this sign-in (see :func:`passkey_amr`)."""
        return passkey_amr(self.credential, self.user_verified)


def passkey_amr(credential: PasskeyCredential, user_verified: bool) -> tuple[str, ...]:
    """RFC 8176 methods for a passkey sign-in.

    ``hwk`` for a device-bound credential (backup-ineligible: its key never leaves the
    authenticator), ``swk`` for a synced one (its key is copied between devices by software);
    ``user`` for the presence test every assertion carries; and, when the authenticator verified
    the user (PIN or biometric, which it does not tell apart), ``mfa``: possession plus a
    knowledge or inherence factor.
    """
    methods = ["swk" if credential.backup_eligible else "hwk", "user"]
    if user_verified:
        methods.append("mfa")
    return tuple(methods)


def _binding_hash(binding: str) -> str:
    return secret_hash(f"passkey-binding:{binding}")


class Passkeys:
    """Runs registration and sign-in ceremonies over a store's passkey tables."""

    def __init__(
        self,
        store: Store,
        relying_party: RelyingParty,
        *,
        policy: PasskeyPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.relying_party = relying_party
        self.policy = policy or PasskeyPolicy()
        self._clock = clock

    @property
    def _user_verification(self) -> UserVerificationRequirement:
        if self.policy.require_user_verification:
            return UserVerificationRequirement.REQUIRED
        return UserVerificationRequirement.PREFERRED

    def _new_challenge(self, purpose: str, binding: str, user_id: str | None) -> bytes:
        challenge = secrets.token_bytes(32)
        self._store.save_passkey_challenge(
            PasskeyChallenge(
                challenge_hash=secret_hash(b64url_encode(challenge)),
                purpose=purpose,
                binding_hash=_binding_hash(binding),
                user_id=user_id,
                expires_at=self._clock() + self.policy.challenge_seconds,
            )
        )
        return challenge

    def registration_options(self, user: User, binding: str) -> dict[str, Any]:
        """``PublicKeyCredentialCreationOptions`` (JSON-ready) to add a passkey to ``user``'s account.

        ``binding`` is the secret cookie value of the signed-in session asking.
        """
        challenge = self._new_challenge(REGISTER, binding, user.user_id)
        known = self._store.list_passkeys(user.user_id)
        options = generate_registration_options(
            rp_id=self.relying_party.rp_id,
            rp_name=self.relying_party.name,
            user_name=user.email,
            user_id=user.user_id.encode(),
            user_display_name=user.name or user.email,
            challenge=challenge,
            timeout=self.policy.challenge_seconds * 1000,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=self._user_verification,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=b64url_decode(c.credential_id)) for c in known
            ],
            supported_pub_key_algs=list(ALGORITHMS),
        )
        return options_to_json_dict(options)

    def sign_in_options(self, binding: str) -> dict[str, Any]:
        """``PublicKeyCredentialRequestOptions`` (JSON-ready) for a usernameless sign-in.

        ``allowCredentials`` is empty: the authenticator offers its discoverable credentials
        for this RP ID (the "Sign in with a passkey" button and email-field autofill).
        ``binding`` is the secret cookie value of the browser asking.
        """
        challenge = self._new_challenge(SIGN_IN, binding, None)
        options = generate_authentication_options(
            rp_id=self.relying_party.rp_id,
            challenge=challenge,
            timeout=self.policy.challenge_seconds * 1000,
            allow_credentials=[],
            user_verification=self._user_verification,
        )
        return options_to_json_dict(options)

    def _claim_challenge(
        self, credential: Mapping[str, Any], purpose: str, binding: str, user_id: str | None
    ) -> bytes:
        """Check ``clientDataJSON`` strictly, use up the challenge it names, and return that challenge."""
        response = credential.get("response")
        encoded = response.get("clientDataJSON") if isinstance(response, dict) else None
        if not isinstance(encoded, str) or len(encoded) > MAX_CLIENT_DATA_BYTES * 4 // 3 + 4:
            raise PasskeyRejected("clientDataJSON missing or too large")
        try:
            client_data = json_object(b64url_decode(encoded))
        except EncodingError:
            raise PasskeyRejected("clientDataJSON is not one strict JSON object") from None
        expected_type = "webauthn.create" if purpose == REGISTER else "webauthn.get"
        if client_data.get("type") != expected_type:
            raise PasskeyRejected("wrong ceremony type")
        if client_data.get("crossOrigin", False) is not False or "topOrigin" in client_data:
            raise PasskeyRejected("cross-origin ceremony")
        raw_challenge = client_data.get("challenge")
        try:
            challenge = b64url_decode(raw_challenge) if isinstance(raw_challenge, str) else b""
        except EncodingError:
            challenge = b""
        if len(challenge) != 32:
            raise PasskeyRejected("unknown challenge")
        record = self._store.consume_passkey_challenge(secret_hash(b64url_encode(challenge)), self._clock())
        if record is None:
            raise PasskeyRejected("unknown, used or expired challenge")
        if not hmac.compare_digest(record.binding_hash, _binding_hash(binding)):
            raise PasskeyRejected("challenge issued to another session")
        if record.purpose != purpose or record.user_id != user_id:
            raise PasskeyRejected("challenge issued for another ceremony")
        return challenge

    def register(
        self, user: User, binding: str, credential: Mapping[str, Any], name: str
    ) -> PasskeyCredential:
        """Verify a ``navigator.credentials.create()`` response and store the new passkey.

        ``binding`` must be the session cookie value the options went to. Raise
        :class:`PasskeyRejected` for anything but a genuine, fresh, new credential.
        """
        challenge = self._claim_challenge(credential, REGISTER, binding, user.user_id)
        if len(self._store.list_passkeys(user.user_id)) >= self.policy.max_passkeys_per_user:
            raise PasskeyRejected("too many passkeys")
        try:
            verified = verify_registration_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=self.relying_party.rp_id,
                expected_origin=list(self.relying_party.origins),
                require_user_verification=self.policy.require_user_verification,
                supported_pub_key_algs=list(ALGORITHMS),
            )
        except Exception as exc:  # py_webauthn raises several types on hostile input (PWL-35)
            raise PasskeyRejected(f"registration did not verify: {type(exc).__name__}") from None
        if len(verified.credential_id) > self.policy.max_credential_id_bytes:
            raise PasskeyRejected("credential id too long")
        response = credential.get("response")
        transports = response.get("transports") if isinstance(response, dict) else None
        now = self._clock()
        record = PasskeyCredential(
            credential_id=b64url_encode(verified.credential_id),
            user_id=user.user_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=tuple(
                t for t in (transports if isinstance(transports, list) else []) if t in _TRANSPORTS
            ),
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
            name=self.clean_name(name) or "Passkey",
            created_at=now,
        )
        if not self._store.add_passkey(record):
            raise PasskeyRejected("credential id already registered")
        return record

    def sign_in(self, binding: str, credential: Mapping[str, Any]) -> PasskeySignIn:
        """Verify a ``navigator.credentials.get()`` response; whose passkey it was.

        ``binding`` must be the cookie value the options went to. Raise
        :class:`SignCountRegression` for a genuine assertion whose counter went backwards (the
        caller logs it as an audit event) and :class:`PasskeyRejected` for anything else wrong.
        """
        challenge = self._claim_challenge(credential, SIGN_IN, binding, None)
        raw_id = credential.get("rawId")
        stored = self._store.get_passkey(raw_id) if isinstance(raw_id, str) and len(raw_id) < 1400 else None
        if stored is None:
            raise PasskeyRejected("unknown credential")
        self._check_user_handle(credential, stored)
        try:
            verified = verify_authentication_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=self.relying_party.rp_id,
                expected_origin=list(self.relying_party.origins),
                credential_public_key=stored.public_key,
                credential_current_sign_count=0,  # checked below, once the signature is known good
                require_user_verification=self.policy.require_user_verification,
            )
        except Exception as exc:  # py_webauthn raises several types on hostile input (PWL-35)
            raise PasskeyRejected(f"assertion did not verify: {type(exc).__name__}") from None
        backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
        if backup_eligible != stored.backup_eligible:
            raise PasskeyRejected("backup eligibility changed since registration")
        count = verified.new_sign_count
        if (count > 0 or stored.sign_count > 0) and count <= stored.sign_count:
            raise SignCountRegression(stored, count)
        if not self._store.record_passkey_use(
            stored.credential_id, stored.sign_count, count, verified.credential_backed_up, self._clock()
        ):
            raise PasskeyRejected("a concurrent use of the credential won")
        return PasskeySignIn(stored.user_id, stored, verified.user_verified)

    @staticmethod
    def _check_user_handle(credential: Mapping[str, Any], stored: PasskeyCredential) -> None:
        """A usernameless assertion must name, in ``userHandle``, the owner of its credential (PWL-32)."""
        response = credential.get("response")
        handle = response.get("userHandle") if isinstance(response, dict) else None
        try:
            owner = b64url_decode(handle) if isinstance(handle, str) else b""
        except EncodingError:
            owner = b""
        if not hmac.compare_digest(owner, stored.user_id.encode()):
            raise PasskeyRejected("userHandle does not own the credential")

    def recently_signed_in(self, auth_time: float) -> bool:
        """Whether a session that signed in at ``auth_time`` may add a passkey or remove the last one."""
        return self._clock() - auth_time <= self.policy.fresh_sign_in_seconds

    def clean_name(self, name: str) -> str:
        """A passkey's display name: printable characters only, whitespace collapsed, bounded."""
        printable = "".join(c if c.isprintable() else " " for c in name)
        return " ".join(printable.split())[: self.policy.max_name_length]
