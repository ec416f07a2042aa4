"""Google ID tokens ("Sign in with Google"): two issuer spellings, one key set."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import ConfigurationError, Reason, TokenError
from ..claims import ANY, ClaimCheck
from ..keyset import KeySource
from ..multi import MultiIssuerVerifier
from ..verifier import DEFAULT_CACHE_SIZE, Verifier
from ._common import allow_list, key_location

__all__ = ["GOOGLE_ISSUERS", "GOOGLE_JWKS_URI", "google"]

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
GOOGLE_JWKS_URI = "https://www.googleapis.com/oauth2/v3/certs"


def _authorized_party(clients: frozenset[str]) -> ClaimCheck:
    """OIDC Core §3.1.3.7: with several audiences, ``azp`` must be present and be our client."""

    def check(claims: Mapping[str, Any], typ: str | None) -> None:
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1:
            azp = claims.get("azp")
            if azp is None:
                raise TokenError(Reason.MISSING_CLAIM, claim="azp")
            if type(azp) is not str or azp not in clients:
                raise TokenError(Reason.WRONG_CLIENT, claim="azp")

    return check


def google(
    *,
    client_id: str | Iterable[str],
    jwks_uri: str | None = None,
    keys: KeySource | None = None,
    leeway_seconds: int = 60,
    cache_size: int = DEFAULT_CACHE_SIZE,
    clock: Callable[[], float] = time.time,
) -> MultiIssuerVerifier:
    """A verifier for Google ID tokens issued to your OAuth client id(s).

    Google writes ``iss`` either as ``https://accounts.google.com`` or ``accounts.google.com``;
    both are accepted, each matched exactly, with the same key set
    (``https://www.googleapis.com/oauth2/v3/certs``). ``aud`` must be one of ``client_id``;
    when a token has several audiences its ``azp`` must be one of them too. RS256 only. The
    caller decides what to trust in ``email`` (check ``email_verified`` and ``hd``).

    Example::

        verifier = google(client_id="1234-abc.apps.googleusercontent.com")
    """
    clients = allow_list(client_id, "client_id")
    if not isinstance(clients, frozenset):
        raise ConfigurationError("client_id cannot be ANY: a Google ID token is only meant for its client")
    location = key_location(keys, jwks_uri, GOOGLE_JWKS_URI)
    return MultiIssuerVerifier(
        Verifier(
            issuer=issuer,
            audience=clients,
            token_type=ANY,  # ID tokens only: Google sends typ "JWT" or none
            **location,
            algorithms=("RS256",),
            leeway_seconds=leeway_seconds,
            roles_claim=None,
            checks=(_authorized_party(clients),),
            cache_size=cache_size,
            clock=clock,
        )
        for issuer in GOOGLE_ISSUERS
    )
