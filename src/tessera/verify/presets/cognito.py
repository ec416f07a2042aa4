"""Amazon Cognito user pools: access tokens and ID tokens, told apart by ``token_use``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from ...errors import ConfigurationError, Reason, TokenError
from ..claims import ANY, AnyValue, ClaimCheck
from ..keyset import KeySource
from ..verifier import DEFAULT_CACHE_SIZE, Verifier
from ._common import allow_list, claim_in, key_location, matching

__all__ = ["cognito", "cognito_issuer"]

_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_USER_POOL_ID = re.compile(r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2})_[A-Za-z0-9]+")
_TOKEN_USES = ("access", "id")


def cognito_issuer(region: str, user_pool_id: str) -> str:
    """The ``iss`` of a user pool, after checking that the pool id belongs to ``region``."""
    matching(_REGION, region, "region", "an AWS region such as 'eu-west-1'")
    pool = _USER_POOL_ID.fullmatch(user_pool_id) if isinstance(user_pool_id, str) else None
    if pool is None:
        raise ConfigurationError("user_pool_id must look like '<region>_<id>', e.g. 'eu-west-1_AbC123'")
    if pool["region"] != region:
        raise ConfigurationError("user_pool_id belongs to another region than the one given")
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def _token_use_is(expected: str) -> ClaimCheck:
    def check(claims: Mapping[str, Any], typ: str | None) -> None:
        token_use = claims.get("token_use")
        if token_use is None:
            raise TokenError(Reason.MISSING_CLAIM, claim="token_use")
        if token_use != expected:
            raise TokenError(Reason.WRONG_TYPE, claim="token_use")

    return check


def cognito(
    *,
    region: str,
    user_pool_id: str,
    token_use: Literal["access", "id"],
    client_id: str | Iterable[str] | AnyValue,
    jwks_uri: str | None = None,
    keys: KeySource | None = None,
    leeway_seconds: int = 60,
    cache_size: int = DEFAULT_CACHE_SIZE,
    clock: Callable[[], float] = time.time,
) -> Verifier:
    """A verifier for one Cognito user pool and one kind of token.

    ``token_use`` picks the kind: ``"access"`` tokens must name an allowed app client in their
    ``client_id`` claim (they carry no ``aud``); ``"id"`` tokens must have an allowed ``aud``.
    The token's ``token_use`` claim must equal the one asked for, so an ID token never passes
    as an access token or the reverse. ``client_id`` is the allow-list of app client ids, or
    :data:`ANY` to waive that check explicitly. Roles come from ``cognito:groups``; scopes
    from ``scope``. Keys are read from ``{issuer}/.well-known/jwks.json`` unless ``jwks_uri``
    or ``keys`` says otherwise.

    Example::

        verifier = cognito(region="eu-west-1", user_pool_id="eu-west-1_AbC123",
                           token_use="access", client_id="3n4b5urk1ft4fl3mg5e62d9ado")
    """
    issuer = cognito_issuer(region, user_pool_id)
    if token_use not in _TOKEN_USES:
        raise ConfigurationError("token_use must be 'access' or 'id'")
    clients = allow_list(client_id, "client_id")
    checks: list[ClaimCheck] = [_token_use_is(token_use)]
    audience: frozenset[str] | AnyValue = ANY
    if token_use == "access" and isinstance(clients, frozenset):
        checks.append(claim_in("client_id", clients, Reason.WRONG_CLIENT))
    elif token_use == "id":
        audience = clients
    return Verifier(
        issuer=issuer,
        audience=audience,
        token_type=ANY,  # Cognito sends typ "JWT" for both kinds; token_use tells them apart
        **key_location(keys, jwks_uri, f"{issuer}/.well-known/jwks.json"),
        algorithms=("RS256",),
        leeway_seconds=leeway_seconds,
        required_claims=("sub", "iat", "token_use"),
        roles_claim="cognito:groups",
        checks=checks,
        cache_size=cache_size,
        clock=clock,
    )
