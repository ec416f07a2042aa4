"""The authorization decision: token extraction, verification and requirements, platform-free."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypedDict, TypeVar

from ..errors import ConfigurationError, Reason, TokenError
from ..verify.claims import Claims
from .audit_log import log_rejection
from .bearer import token_from_request
from .cors import CORS
from .http import HttpRequest, HttpResponse
from .principal import Principal
from .responses import check_realm, error_response

__all__ = ["ClaimPredicate", "Guard", "GuardOptions", "TokenVerifier", "with_guard_signature"]

ClaimPredicate = Callable[[Claims], bool]
"""An extra requirement on the verified claims: return True to allow."""
_Function = TypeVar("_Function", bound=Callable[..., Any])


class TokenVerifier(Protocol):
    """Anything that verifies a token: :class:`~tessera.Verifier`, a multi-issuer one, a preset."""

    def verify(self, token: str) -> Claims:
        """Verify synchronously."""
        ...

    async def averify(self, token: str) -> Claims:
        """Verify without blocking the event loop."""
        ...


class GuardOptions(TypedDict, total=False):
    """The keywords of :class:`Guard`, which every ``authorize`` takes too (defaults as there)."""

    scopes: Iterable[str]
    roles: Iterable[str]
    require: Iterable[ClaimPredicate]
    realm: str
    cookie: str | None
    cors: CORS | None
    header: str | None


class Guard:
    """Decides whether a request may reach a protected handler.

    ``scopes`` must all be granted; at least one of ``roles`` must be held (when any are given);
    every ``require`` predicate must return True. The token comes from the ``Authorization:
    Bearer`` header or, when ``cookie`` names one, from that cookie; ``header`` instead names a
    front-door header whose whole value is the token (see :mod:`tessera.protect.front_doors`).

    Example::

        guard = Guard(verifier, scopes=["orders:read"])
        principal = guard.authenticate(request)   # raises TokenError
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        require: Iterable[ClaimPredicate] = (),
        realm: str = "tessera",
        cookie: str | None = None,
        cors: CORS | None = None,
        header: str | None = None,
    ) -> None:
        if not all(callable(getattr(verifier, name, None)) for name in ("verify", "averify")):
            raise ConfigurationError("verifier must have verify() and averify() methods")
        if isinstance(scopes, str) or isinstance(roles, str):
            raise ConfigurationError("scopes and roles are lists of names, not a single string")
        self.verifier = verifier
        self.scopes = tuple(dict.fromkeys(scopes))
        self.roles = frozenset(roles)
        self.require = tuple(require)
        if not all(callable(p) for p in self.require):
            raise ConfigurationError("require takes callables of the verified claims")
        self.realm = check_realm(realm)
        if cookie is not None and (not cookie or not cookie.isascii() or not cookie.isprintable()):
            raise ConfigurationError("cookie must be a non-empty ASCII cookie name")
        if cookie is not None and header is not None:
            raise ConfigurationError("give at most one of cookie and header")
        self.cookie = cookie
        self.header = header
        self.cors = cors
        self._last: tuple[Claims, Principal] | None = None

    def token(self, request: HttpRequest) -> str:
        """The request's single bearer token; raise :class:`TokenError` otherwise."""
        return token_from_request(request, self.cookie, self.header)

    def authenticate(self, request: HttpRequest) -> Principal:
        """The verified principal allowed to make ``request``; raise :class:`TokenError`."""
        return self.authorize_claims(
            self.verifier.verify(token_from_request(request, self.cookie, self.header))
        )

    async def aauthenticate(self, request: HttpRequest) -> Principal:
        """The async twin of :meth:`authenticate`: only the verification is awaited."""
        return self.authorize_claims(await self.verifier.averify(self.token(request)))

    def authorize_claims(
        self,
        claims: Claims,
        *,
        scopes: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
    ) -> Principal:
        """Apply the requirements to verified ``claims`` (``scopes``/``roles`` override the guard's)."""
        needed_scopes = self.scopes if scopes is None else tuple(scopes)
        needed_roles = self.roles if roles is None else frozenset(roles)
        if not claims.scopes.issuperset(needed_scopes):
            raise TokenError(Reason.INSUFFICIENT_SCOPE, required_scopes=needed_scopes)
        if needed_roles and needed_roles.isdisjoint(claims.roles):
            raise TokenError(Reason.INSUFFICIENT_ROLE)
        for predicate in self.require:
            if not _holds(predicate, claims):
                raise TokenError(Reason.CLAIM_REJECTED)
        last = self._last
        if last is not None and last[0] is claims:
            return last[1]
        return self._principal(claims)

    def _principal(self, claims: Claims) -> Principal:
        """The principal of ``claims``, remembered with the Claims object it came from (a
        verifier with its token cache on returns the same object again).
        """
        principal = Principal.from_claims(claims)
        self._last = (claims, principal)
        return principal

    def admit(self, request: HttpRequest) -> Principal | HttpResponse:
        """The principal to hand the handler, or the response to send instead.

        The response is the preflight answer (CORS configured) or the RFC 6750 rejection.
        Adapters call this (or :meth:`aadmit`) and only translate its result.
        """
        if self.cors is not None and self.cors.is_preflight(request):
            return self.cors.preflight(request)
        try:
            return self.authenticate(request)
        except TokenError as error:
            return self.error_response(error, request)

    async def aadmit(self, request: HttpRequest) -> Principal | HttpResponse:
        """The async twin of :meth:`admit`."""
        answer = self.preflight(request)
        if answer is not None:
            return answer
        try:
            return await self.aauthenticate(request)
        except TokenError as error:
            return self.error_response(error, request)

    def preflight(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a CORS preflight, when CORS is configured and ``request`` is one."""
        if self.cors is not None and self.cors.is_preflight(request):
            return self.cors.preflight(request)
        return None

    def error_response(self, error: TokenError, request: HttpRequest | None = None) -> HttpResponse:
        """:func:`~tessera.protect.error_response` with this guard's realm and CORS policy."""
        origin = request.origin if request is not None else None
        response = error_response(error, realm=self.realm, cors=self.cors, origin=origin)
        log_rejection(
            "tessera.protect",
            error.reason.value,
            method=request.method if request is not None else None,
            route=request.path if request is not None else None,
            status=response.status,
        )
        return response

    def cors_headers(self, request: HttpRequest) -> tuple[tuple[str, str], ...]:
        """The CORS headers a successful response to ``request`` should carry."""
        return self.cors.headers_for(request.origin) if self.cors is not None else ()


def _holds(predicate: ClaimPredicate, claims: Claims) -> bool:
    try:
        return predicate(claims) is True
    except Exception:
        return False


def with_guard_signature(function: _Function) -> _Function:
    """Give ``function(verifier, **options)`` the signature of :class:`Guard` (its keywords and
    defaults) and its own return type, so ``help()`` and editors show the keywords it takes."""
    own = inspect.signature(function)
    function.__signature__ = inspect.signature(Guard).replace(  # type: ignore[attr-defined]
        return_annotation=own.return_annotation
    )
    return function
