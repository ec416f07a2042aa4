"""Any OpenID Connect provider, found through discovery."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ...errors import ConfigurationError
from ..claims import AnyValue
from ..verifier import Verifier

__all__ = ["oidc"]

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def oidc(
    *,
    issuer: str,
    audience: str | Iterable[str] | AnyValue,
    token_type: str | AnyValue,
    **verifier_options: Any,
) -> Verifier:
    """A verifier for any OpenID provider: keys found by discovery from ``issuer``.

    Discovery reads ``{issuer}/.well-known/openid-configuration`` and insists that the
    document's ``issuer`` equals ``issuer`` exactly; pass ``jwks_uri=`` (or ``keys=``) to skip
    it. ``issuer`` must be an https URL (plain http only on a loopback host, for local
    development). ``verifier_options`` are the other keyword arguments of
    :class:`~tessera.verify.Verifier` (``algorithms``, ``roles_claim``, ``checks``, ...).

    Example::

        verifier = oidc(issuer="https://id.example.com", audience="orders-api",
                        token_type="at+jwt")
    """
    if not isinstance(issuer, str):
        raise ConfigurationError("issuer must be an https URL")
    parts = urlsplit(issuer)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)
    if not secure or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError("issuer must be an https URL without query or fragment")
    return Verifier(issuer=issuer, audience=audience, token_type=token_type, **verifier_options)
