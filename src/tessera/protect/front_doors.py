"""Identity already checked by a platform front door, read only when explicitly configured.

Each front door gives a verifier (anything with ``verify``/``averify``) and the header it reads;
pass both to a :class:`~tessera.protect.Guard`::

    guard = Guard(iap_verifier("/projects/123/global/backendServices/456"), header=IAP_HEADER)

What must hold upstream for the header to be trustworthy:

- **Google Cloud IAP** (``x-goog-iap-jwt-assertion``): nothing, beyond configuring the audience
  of *your* backend. The assertion is a signed ES256 JWT verified like any other token against
  Google's IAP keys (issuer ``https://cloud.google.com/iap``), so a forged header fails.
- **Azure App Service / Functions Easy Auth** (``X-MS-CLIENT-PRINCIPAL``): the header is not
  signed. It is trustworthy only when Easy Auth is enabled on the app (App Service then strips
  client-sent ``X-MS-*`` headers) *and* the app is reachable only through App Service: no other
  ingress (private endpoint, VNet, a sidecar or a reverse proxy) may forward requests to it.
- **Cloud Endpoints ESPv2** (``X-Endpoint-API-UserInfo``): not signed either. Trustworthy only
  when the backend accepts traffic from ESPv2 alone (Cloud Run with ingress "internal" and IAM
  invoker limited to the ESPv2 service account, or a private network), and ESPv2 is configured
  to authenticate this API with the issuer and audience you give here.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..encoding import EncodingError, json_object
from ..errors import ConfigurationError, Reason, TokenError
from ..verify import ANY, Claims, KeySource, Verifier
from ..verify.claims import ClaimsPolicy, parse_scope

__all__ = [
    "EASY_AUTH_HEADER",
    "ESP_USERINFO_HEADER",
    "IAP_HEADER",
    "IAP_ISSUER",
    "IAP_JWKS_URI",
    "EasyAuthPrincipal",
    "EndpointsUserInfo",
    "iap_verifier",
]

IAP_HEADER = "x-goog-iap-jwt-assertion"
IAP_ISSUER = "https://cloud.google.com/iap"
IAP_JWKS_URI = "https://www.gstatic.com/iap/verify/public_key-jwk"
EASY_AUTH_HEADER = "x-ms-client-principal"
ESP_USERINFO_HEADER = "x-endpoint-api-userinfo"
MAX_HEADER_CHARS = 16384
_IAP_AUDIENCE = re.compile(r"/projects/[0-9]+/(?:global/backendServices/[0-9]+|apps/[a-z][a-z0-9-]{4,29})")
_OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
_NAME_ID = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
_SCOPE = "http://schemas.microsoft.com/identity/claims/scope"


def iap_verifier(
    audience: str,
    *,
    jwks: Mapping[str, Any] | str | Path | None = None,
    keys: KeySource | None = None,
    clock: Callable[[], float] = time.time,
) -> Verifier:
    """A verifier for IAP's signed header: ES256 only, issuer IAP, ``aud`` = your backend.

    ``audience`` is ``/projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID`` (load
    balancer) or ``/projects/PROJECT_NUMBER/apps/PROJECT_ID`` (App Engine). Keys come from
    ``jwks``/``keys`` when given (a bundled copy of :data:`IAP_JWKS_URI`), else from that URI.
    """
    if not isinstance(audience, str) or _IAP_AUDIENCE.fullmatch(audience) is None:
        raise ConfigurationError(
            "audience must be /projects/NUMBER/global/backendServices/ID or /projects/NUMBER/apps/ID"
        )
    source: dict[str, Any] = (
        {"jwks": jwks} if jwks is not None else {"keys": keys} if keys is not None else {}
    )
    if not source:
        source = {"jwks_uri": IAP_JWKS_URI}
    return Verifier(
        issuer=IAP_ISSUER,
        audience=audience,
        token_type=ANY,
        algorithms=["ES256"],
        required_claims=["sub", "iat"],
        roles_claim=None,
        clock=clock,
        **source,
    )


def _header_bytes(value: str, *, urlsafe: bool) -> bytes:
    if not isinstance(value, str) or not value or len(value) > MAX_HEADER_CHARS or not value.isascii():
        raise TokenError(Reason.MALFORMED)
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.b64decode(padded, altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        raise TokenError(Reason.MALFORMED) from None


def _object(value: str, *, urlsafe: bool) -> dict[str, Any]:
    try:
        return json_object(_header_bytes(value, urlsafe=urlsafe))
    except EncodingError:
        raise TokenError(Reason.MALFORMED) from None


class EasyAuthPrincipal:
    """Reads Azure Easy Auth's ``X-MS-CLIENT-PRINCIPAL`` (base64 JSON) as verified claims.

    ``sub`` is the object id (or name identifier), roles come from the claims whose type is the
    principal's ``role_typ``, scopes from the ``scp`` / scope claim. The header carries no
    expiry: ``exp`` is the time it was read. ``iss`` is ``easyauth:<auth_typ>`` (for example
    ``easyauth:aad``); ``allowed_providers`` restricts which identity providers are accepted.
    """

    def __init__(
        self, *, allowed_providers: Iterable[str] = ("aad",), clock: Callable[[], float] = time.time
    ) -> None:
        self.allowed_providers = frozenset(allowed_providers)
        if not self.allowed_providers or isinstance(allowed_providers, str):
            raise ConfigurationError("allowed_providers is a non-empty list such as ['aad']")
        self._clock = clock

    def verify(self, token: str) -> Claims:
        """Decode and check the header value; raise TokenError when it is malformed."""
        document = _object(token, urlsafe=False)
        provider, entries = document.get("auth_typ"), document.get("claims")
        role_type = document.get("role_typ", "roles")
        if provider not in self.allowed_providers or not isinstance(entries, list):
            raise TokenError(
                Reason.INVALID_CLAIM, claim="auth_typ" if provider not in self.allowed_providers else "claims"
            )
        raw: dict[str, Any] = {}
        roles: list[str] = []
        for entry in entries:
            if (
                not isinstance(entry, Mapping)
                or not isinstance(entry.get("typ"), str)
                or not isinstance(entry.get("val"), str)
            ):
                raise TokenError(Reason.INVALID_CLAIM, claim="claims")
            kind, value = entry["typ"], entry["val"]
            if kind == role_type:
                roles.append(value)
            previous = raw.get(kind)
            raw[kind] = (
                value
                if previous is None
                else [*([previous] if isinstance(previous, str) else previous), value]
            )
        subject = raw.get(_OBJECT_ID, raw.get("oid", raw.get(_NAME_ID)))
        if not isinstance(subject, str) or not subject:
            raise TokenError(Reason.MISSING_CLAIM, claim="sub")
        scope = raw.get(_SCOPE, raw.get("scp"))
        raw.update({"iss": f"easyauth:{provider}", "sub": subject, "exp": self._clock(), "roles": roles})
        scopes = parse_scope({"scope": scope}) if isinstance(scope, str) else frozenset()
        return Claims(raw, scopes=scopes, roles=frozenset(roles), token_type=None)

    async def averify(self, token: str) -> Claims:
        """The same check; nothing to await."""
        return self.verify(token)


class EndpointsUserInfo:
    """Reads Cloud Endpoints ESPv2's ``X-Endpoint-API-UserInfo`` (base64url JSON of the JWT claims).

    ESPv2 verified the token; the claims are checked again here against ``issuer`` and
    ``audience`` (expiry included) so that a misrouted or replayed header is refused.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Iterable[str],
        leeway_seconds: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        audiences = frozenset((audience,) if isinstance(audience, str) else audience)
        self.policy = ClaimsPolicy(
            issuer=issuer,
            audiences=audiences,
            token_type=ANY,
            required=frozenset({"sub"}),
            leeway=leeway_seconds,
        )
        self._clock = clock

    def verify(self, token: str) -> Claims:
        """Decode the header value and apply the claims policy; raise TokenError otherwise."""
        return self.policy.apply(_object(token, urlsafe=True), None, self._clock())

    async def averify(self, token: str) -> Claims:
        """The same check; nothing to await."""
        return self.verify(token)
