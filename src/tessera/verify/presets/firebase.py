"""Firebase Authentication ID tokens, verified with Google's x509 certificate set."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import ConfigurationError, Reason, TokenError
from ..claims import ANY, ClaimCheck, numeric_date
from ..keyset import KeySource
from ..verifier import DEFAULT_CACHE_SIZE, Verifier
from ._common import matching, remote_key_set
from .x509 import parse_x509_certificates

__all__ = ["FIREBASE_CERTIFICATES_URI", "firebase"]

FIREBASE_CERTIFICATES_URI = (
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
)
MAX_UID_CHARS = 128
_PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")


def _firebase_rules(clock: Callable[[], float], leeway: int) -> ClaimCheck:
    def check(claims: Mapping[str, Any], typ: str | None) -> None:
        sub = claims.get("sub")
        if type(sub) is not str or len(sub) > MAX_UID_CHARS:
            raise TokenError(Reason.INVALID_CLAIM, claim="sub")
        auth_time = numeric_date(claims, "auth_time")
        if auth_time is None:
            raise TokenError(Reason.MISSING_CLAIM, claim="auth_time")
        if auth_time > clock() + leeway:
            raise TokenError(Reason.INVALID_CLAIM, claim="auth_time")

    return check


def firebase(
    *,
    project_id: str,
    jwks_uri: str | None = None,
    keys: KeySource | None = None,
    leeway_seconds: int = 60,
    cache_size: int = DEFAULT_CACHE_SIZE,
    clock: Callable[[], float] = time.time,
) -> Verifier:
    """A verifier for Firebase Authentication ID tokens of the project ``project_id``.

    The issuer is ``https://securetoken.google.com/{project_id}`` and the audience the project
    id. Keys are Google's certificate map (``{kid: PEM}``), parsed by
    :func:`~tessera.verify.presets.parse_x509_certificates`; ``jwks_uri`` overrides where
    that map is fetched. RS256 only. ``sub`` (the user's uid) must be a non-empty string of at
    most 128 characters, and ``auth_time`` must be present and not in the future.

    Example::

        verifier = firebase(project_id="my-project-1234")
        claims = verifier.verify(id_token)   # claims.subject is the Firebase uid
    """
    project = matching(
        _PROJECT_ID, project_id, "project_id", "a Google Cloud project id such as 'my-app-1234'"
    )
    if keys is not None and jwks_uri is not None:
        raise ConfigurationError("give keys or jwks_uri, not both")
    issuer = f"https://securetoken.google.com/{project}"
    location = jwks_uri or FIREBASE_CERTIFICATES_URI
    source = keys or remote_key_set(issuer=issuer, jwks_uri=location, parse=parse_x509_certificates)
    return Verifier(
        issuer=issuer,
        audience=project,
        token_type=ANY,  # Firebase sends typ "JWT"; only ID tokens come from this issuer
        keys=source,
        algorithms=("RS256",),
        leeway_seconds=leeway_seconds,
        required_claims=("sub", "iat", "auth_time"),
        roles_claim=None,
        checks=(_firebase_rules(clock, leeway_seconds),),
        cache_size=cache_size,
        clock=clock,
    )
