"""A test-only software WebAuthn authenticator: ``none`` attestation and ES256 assertions.

It answers the JSON options the provider sends the way a browser plus authenticator would,
with every field a forger might change exposed as a keyword argument.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import encode_cbor

from tessera.encoding import b64url_decode, b64url_encode

__all__ = ["UP", "UV", "BE", "BS", "SoftAuthenticator"]

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


class SoftAuthenticator:
    """One discoverable ES256 credential for one RP, answering create() and get() options."""

    def __init__(self, origin: str, *, backup_eligible: bool = False, counter_step: int = 1) -> None:
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.user_handle = b""
        self.sign_count = 0
        self.counter_step = counter_step
        self.flags = UP | UV | (BE if backup_eligible else 0)

    def _client_data(self, kind: str, challenge: str, origin: str | None, extra: dict[str, Any]) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        data.update(extra)
        return json.dumps(data).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        return encode_cbor(cose)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        kind: str = "webauthn.create",
        flags: int | None = None,
        fmt: str = "none",
        att_stmt: dict[str, Any] | None = None,
        client_data_extra: dict[str, Any] | None = None,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """A ``RegistrationResponseJSON`` for creation ``options``."""
        if credential_id is not None:
            self.credential_id = credential_id
        self.user_handle = b64url_decode(options["user"]["id"])
        client_data = self._client_data(kind, options["challenge"], origin, client_data_extra or {})
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        auth_data = (
            rp_hash
            + bytes([(self.flags if flags is None else flags) | AT])
            + struct.pack(">I", self.sign_count)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = encode_cbor({"fmt": fmt, "attStmt": att_stmt or {}, "authData": auth_data})
        raw_id = b64url_encode(self.credential_id)
        return {
            "id": raw_id,
            "rawId": raw_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url_encode(client_data),
                "attestationObject": b64url_encode(attestation),
                "transports": ["internal", "made-up"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        kind: str = "webauthn.get",
        flags: int | None = None,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        client_data_extra: dict[str, Any] | None = None,
        client_data: bytes | None = None,
    ) -> dict[str, Any]:
        """An ``AuthenticationResponseJSON`` for request ``options``, signed with the credential's key."""
        if sign_count is None:
            self.sign_count += self.counter_step
            sign_count = self.sign_count
        data = client_data or self._client_data(kind, options["challenge"], origin, client_data_extra or {})
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([self.flags if flags is None else flags]) + struct.pack(">I", sign_count)
        signature = self.key.sign(auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256()))
        raw_id = b64url_encode(self.credential_id)
        return {
            "id": raw_id,
            "rawId": raw_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url_encode(data),
                "authenticatorData": b64url_encode(auth_data),
                "signature": b64url_encode(signature),
                "userHandle": b64url_encode(self.user_handle if user_handle is None else user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
