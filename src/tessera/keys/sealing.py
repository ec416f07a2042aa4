"""Private keys at rest: AES-256-GCM under keys derived (HKDF-SHA256) from one local master key.

The master key is 32 random bytes, read from ``TESSERA_MASTER_KEY`` (base64url) or from the file
``master.key`` in the data directory, created with mode 0600 on first use. Each purpose gets its
own derived key (``derive("signing-keys")``, ``derive("otp-pepper")``...), so one leaked
derivative does not expose the others.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..encoding import EncodingError, b64url_decode, b64url_encode
from ..errors import ConfigurationError, TesseraError

__all__ = ["MASTER_KEY_ENV", "MasterKey", "SealError"]

MASTER_KEY_ENV = "TESSERA_MASTER_KEY"
MASTER_KEY_FILE = "master.key"
_NONCE_BYTES = 12
_SEAL_VERSION = b"\x01"


class SealError(TesseraError):
    """A sealed blob does not open: wrong master key, wrong context, or tampered."""

    code = "seal_error"


class MasterKey:
    """The root secret of a provider installation; derives purpose keys, seals and opens blobs."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ConfigurationError("the master key must be at least 32 bytes")
        self._secret = secret

    @classmethod
    def generate(cls) -> MasterKey:
        """A new random master key."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def load(cls, data_dir: str | Path, environ: Mapping[str, str] | None = None) -> MasterKey:
        """The key from ``TESSERA_MASTER_KEY``, else ``data_dir/master.key`` (created 0600 if absent)."""
        env = os.environ if environ is None else environ
        encoded = env.get(MASTER_KEY_ENV)
        if encoded:
            try:
                return cls(b64url_decode(encoded.strip()))
            except EncodingError:
                raise ConfigurationError(f"{MASTER_KEY_ENV} is not base64url") from None
        path = Path(data_dir) / MASTER_KEY_FILE
        if path.exists():
            if path.stat().st_mode & 0o077:
                raise ConfigurationError(f"{path} must be readable by its owner only (chmod 600)")
            try:
                return cls(b64url_decode(path.read_text().strip()))
            except EncodingError:
                raise ConfigurationError(f"{path} is not a base64url master key") from None
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(b64url_encode(key._secret) + "\n")
        return key

    def derive(self, purpose: str, length: int = 32) -> bytes:
        """A key for one ``purpose``, by HKDF-SHA256 with the purpose as ``info``."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=f"tessera:{purpose}".encode())
        return hkdf.derive(self._secret)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt and authenticate ``plaintext``; ``context`` (a kid, say) is bound as AAD."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        aead = AESGCM(self.derive("sealing"))
        return _SEAL_VERSION + nonce + aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        """The plaintext of a :meth:`seal` blob; raise :class:`SealError` if it does not open."""
        if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _SEAL_VERSION:
            raise SealError("not a sealed blob")
        nonce = sealed[1 : 1 + _NONCE_BYTES]
        try:
            return AESGCM(self.derive("sealing")).decrypt(nonce, sealed[1 + _NONCE_BYTES :], context.encode())
        except InvalidTag:
            raise SealError("the sealed blob does not open under this master key and context") from None

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"
