"""Auth0 tenants: issuer with its trailing slash, RS256, ``permissions`` as roles."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from ..claims import ANY, AnyValue
from ..keyset import KeySource
from ..verifier import DEFAULT_CACHE_SIZE, Verifier
from ._common import allow_list, key_location, matching

__all__ = ["auth0"]

_DOMAIN = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def auth0(
    *,
    domain: str,
    audience: str | Iterable[str] | AnyValue,
    token_type: str | AnyValue = ANY,
    roles_claim: str = "permissions",
    algorithms: Iterable[str] = ("RS256",),
    jwks_uri: str | None = None,
    keys: KeySource | None = None,
    leeway_seconds: int = 60,
    cache_size: int = DEFAULT_CACHE_SIZE,
    clock: Callable[[], float] = time.time,
) -> Verifier:
    """A verifier for access tokens from the Auth0 tenant (or custom domain) ``domain``.

    ``domain`` is a bare host name such as ``"example.eu.auth0.com"``; the issuer is
    ``https://{domain}/``, trailing slash included, and keys come from
    ``https://{domain}/.well-known/jwks.json``. ``audience`` is your API identifier: an Auth0
    ID token carries the application's client id there instead, so it is refused. Roles come
    from ``permissions`` (Auth0 RBAC); pass ``roles_claim="https://example.com/roles"`` for a
    namespaced claim set by an Action. Auth0's default access token profile sends
    ``typ: "JWT"``; with the RFC 9068 profile, pass ``token_type="at+jwt"`` to require it.

    Example::

        verifier = auth0(domain="example.eu.auth0.com", audience="https://api.example.com")
    """
    host = matching(_DOMAIN, domain, "domain", "a bare host name such as 'example.eu.auth0.com'")
    issuer = f"https://{host}/"
    return Verifier(
        issuer=issuer,
        audience=allow_list(audience, "audience"),
        token_type=token_type,
        **key_location(keys, jwks_uri, f"{issuer}.well-known/jwks.json"),
        algorithms=algorithms,
        leeway_seconds=leeway_seconds,
        roles_claim=roles_claim,
        cache_size=cache_size,
        clock=clock,
    )
