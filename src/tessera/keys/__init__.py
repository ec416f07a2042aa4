"""Signing keys: generation, JWK export, RFC 7638 key ids and compact JWS signing."""

from .signing import SigningKey, sign_compact, thumbprint

__all__ = ["SigningKey", "sign_compact", "thumbprint"]
