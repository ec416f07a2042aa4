"""Microsoft customer identity: Azure AD B2C user flows and Microsoft Entra External ID tenants.

Supported issuer forms (checked against Microsoft's token references, November 2026):

- B2C, "tenant id" form (the recommended default of the user flow's token compatibility
  setting): ``https://{tenant}.b2clogin.com/{tenant_id}/v2.0/``
- B2C, "tfp" form: ``https://{tenant}.b2clogin.com/tfp/{tenant_id}/{policy}/v2.0/``
- Entra External ID, v2.0 tokens: ``https://{tenant_id}.ciamlogin.com/{tenant_id}/v2.0``

Not supported: the retired ``login.microsoftonline.com/tfp/...`` B2C host, B2C custom domains
(use :func:`~tessera.verify.presets.oidc`), and Entra v1.0 access tokens
(``https://{tenant_id}.ciamlogin.com/{tenant_id}/``; set ``accessTokenAcceptedVersion`` to 2).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import ConfigurationError, Reason, TokenError
from ..claims import ANY, ClaimCheck
from ..keyset import KeySource
from ..multi import MultiIssuerVerifier
from ..verifier import DEFAULT_CACHE_SIZE, Verifier
from ._common import allow_list, claim_in, key_location, matching

__all__ = ["azure_ad_b2c", "entra_external_id"]

_TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_POLICY = re.compile(r"(?i:b2c_1a?_)[A-Za-z0-9_.-]{1,100}")


def _client_ids(client_id: str | Iterable[str]) -> frozenset[str]:
    clients = allow_list(client_id, "client_id")
    if not isinstance(clients, frozenset):
        raise ConfigurationError("client_id cannot be ANY: give the application (client) id of your API")
    return clients


def _policy_is(policy: str) -> ClaimCheck:
    """The user flow named in ``tfp`` (or, in older tokens, ``acr``) must be ours; names ignore case."""
    expected = policy.lower()

    def check(claims: Mapping[str, Any], typ: str | None) -> None:
        name = "tfp" if "tfp" in claims else "acr"
        value = claims.get(name)
        if value is None:
            raise TokenError(Reason.MISSING_CLAIM, claim="tfp")
        if type(value) is not str or value.lower() != expected:
            raise TokenError(Reason.INVALID_CLAIM, claim=name)

    return check


def azure_ad_b2c(
    *,
    tenant: str,
    policy: str,
    client_id: str | Iterable[str],
    tenant_id: str,
    jwks_uri: str | None = None,
    keys: KeySource | None = None,
    leeway_seconds: int = 60,
    cache_size: int = DEFAULT_CACHE_SIZE,
    clock: Callable[[], float] = time.time,
) -> MultiIssuerVerifier:
    """A verifier for tokens from one Azure AD B2C user flow (or custom policy).

    ``tenant`` is the tenant name (``contoso`` for ``contoso.onmicrosoft.com``), ``tenant_id``
    the directory id (a GUID) that B2C writes into ``iss``, ``policy`` the user flow
    (``B2C_1_signupsignin``), ``client_id`` the application id(s) your API accepts as ``aud``.
    Both B2C issuer forms are accepted (see the module notes), each exactly; the token's
    ``tfp`` (or ``acr``) must name ``policy``. Keys come from
    ``https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{policy}/discovery/v2.0/keys``.
    Roles from ``roles``, scopes from ``scp``. RS256 only.

    Example::

        verifier = azure_ad_b2c(tenant="contoso", policy="B2C_1_signupsignin",
                                tenant_id="775527ff-9a37-4307-8b3d-cc311f58d925",
                                client_id="90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6")
    """
    name = matching(_TENANT_NAME, tenant, "tenant", "the B2C tenant name, e.g. 'contoso'")
    directory = matching(_TENANT_ID, tenant_id, "tenant_id", "the directory id, a lower-case GUID")
    flow = matching(_POLICY, policy, "policy", "a user flow or custom policy id such as 'B2C_1_signin'")
    clients = _client_ids(client_id)
    host = f"https://{name}.b2clogin.com"
    location = key_location(keys, jwks_uri, f"{host}/{name}.onmicrosoft.com/{flow}/discovery/v2.0/keys")
    issuers = (f"{host}/{directory}/v2.0/", f"{host}/tfp/{directory}/{flow.lower()}/v2.0/")
    return MultiIssuerVerifier(
        Verifier(
            issuer=issuer,
            audience=clients,
            token_type=ANY,  # B2C sends typ "JWT" for ID and access tokens alike; aud tells them apart
            **location,
            algorithms=("RS256",),
            leeway_seconds=leeway_seconds,
            roles_claim="roles",
            checks=(_policy_is(flow),),
            cache_size=cache_size,
            clock=clock,
        )
        for issuer in issuers
    )


def entra_external_id(
    *,
    tenant_id: str,
    client_id: str | Iterable[str],
    tenant_subdomain: str | None = None,
    jwks_uri: str | None = None,
    keys: KeySource | None = None,
    leeway_seconds: int = 60,
    cache_size: int = DEFAULT_CACHE_SIZE,
    clock: Callable[[], float] = time.time,
) -> Verifier:
    """A verifier for v2.0 access tokens from a Microsoft Entra External ID (CIAM) tenant.

    The issuer is ``https://{tenant_id}.ciamlogin.com/{tenant_id}/v2.0``; ``aud`` must be one
    of ``client_id`` (your API's application id) and ``tid`` must be ``tenant_id``. Keys come
    from ``https://{tenant_subdomain or tenant_id}.ciamlogin.com/{tenant_id}/discovery/v2.0/keys``.
    Roles from ``roles`` (app roles), scopes from ``scp``. RS256 only.

    Example::

        verifier = entra_external_id(tenant_id="aaaabbbb-0000-cccc-1111-dddd2222eeee",
                                     client_id="00001111-aaaa-2222-bbbb-3333cccc4444")
    """
    directory = matching(_TENANT_ID, tenant_id, "tenant_id", "the directory id, a lower-case GUID")
    subdomain = directory
    if tenant_subdomain is not None:
        subdomain = matching(
            _TENANT_NAME, tenant_subdomain, "tenant_subdomain", "a host label, e.g. 'contoso'"
        )
    issuer = f"https://{directory}.ciamlogin.com/{directory}/v2.0"
    return Verifier(
        issuer=issuer,
        audience=_client_ids(client_id),
        token_type=ANY,  # Entra sends typ "JWT"; aud and tid bind the token to this API and tenant
        **key_location(keys, jwks_uri, f"https://{subdomain}.ciamlogin.com/{directory}/discovery/v2.0/keys"),
        algorithms=("RS256",),
        leeway_seconds=leeway_seconds,
        roles_claim="roles",
        checks=(claim_in("tid", frozenset((directory,)), Reason.WRONG_ISSUER),),
        cache_size=cache_size,
        clock=clock,
    )
