"""``/authorize``: the authorization code flow with PKCE S256 (RFC 6749 §4.1, RFC 7636, RFC 9207).

Order of checks: the source address's rate limit (AS-57, a 429 page); the client and the
redirect URI, answered with an error page and never a redirect (AS-01, AS-03, AS-04); only then
the rest of the request, whose errors are redirected to the verified redirect URI with
``state`` and ``iss``. A signed-in user then goes to the consent page (:mod:`.consent`) when
the client is third-party and the request asks for more than the user has allowed it. A request
whose ``acr_values`` ask for multi-factor authentication (:mod:`tessera.issue.assurance`) of a
session that had one factor first goes through the TOTP step (:func:`_step_up`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.issue.addresses import request_address
from tessera.issue.assurance import multi_factor, requires_multi_factor
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.issue.redirects import add_query, redirect_uri_matches
from tessera.issue.resources import TargetError
from tessera.issue.signin.second_factor import begin_second_factor, needs_second_factor, second_factor_url
from tessera.issue.tokens import new_secret
from tessera.issue.web import NO_STORE, BadParameters, error_page, split_params
from tessera.store import AuthorizationCode, ClientRecord, PendingRequest, Session, User, secret_hash

__all__ = [
    "AuthorizationRequest",
    "Pending",
    "authorize",
    "authorize_continue",
    "load_pending",
    "redirect_to_client",
    "resume",
    "validate",
]

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_CLIENT_ID = 256
MAX_STATE = 4096
MAX_NONCE = 512
MAX_ACR_VALUES = 1024
MAX_SCOPES = 32
MAX_SCOPE_CHARS = 1024


class AuthorizeError(Exception):
    """An error that goes back to the client's verified redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizationRequest:
    """A request whose client and redirect URI are verified."""

    client: ClientRecord
    redirect_uri: str
    redirect_given: bool
    params: dict[str, str]

    @property
    def state(self) -> str | None:
        """The client's ``state``, echoed byte-exact."""
        return self.params.get("state")

    @property
    def scopes(self) -> tuple[str, ...]:
        """The requested scopes, in request order."""
        return tuple(self.params.get("scope", "").split())

    @property
    def prompts(self) -> frozenset[str]:
        """The ``prompt`` values."""
        return frozenset(self.params.get("prompt", "").split())


def _verify_client(
    provider: Provider, params: dict[str, str], repeated: frozenset[str]
) -> AuthorizationRequest | Response:
    if repeated & {"client_id", "redirect_uri"}:
        return error_page("The request repeats client_id or redirect_uri.")
    client_id = params.get("client_id")
    if client_id is None or len(client_id) > MAX_CLIENT_ID:
        return error_page("The request has no valid client_id.")
    client = provider.store.get_client(client_id)
    if client is None or "authorization_code" not in client.grant_types:
        return error_page("The client is not known.")
    requested = params.get("redirect_uri")
    if requested is None:
        exact = [u for u in client.redirect_uris if "*" not in u]
        if len(client.redirect_uris) != 1 or len(exact) != 1:
            return error_page("The request must name its redirect_uri.")
        return AuthorizationRequest(client, exact[0], False, params)
    if not any(redirect_uri_matches(requested, registered) for registered in client.redirect_uris):
        return error_page("The redirect_uri is not registered for this client.")
    return AuthorizationRequest(client, requested, True, params)


def _check_request(provider: Provider, request: AuthorizationRequest, repeated: frozenset[str]) -> None:
    params = request.params
    if repeated:
        raise AuthorizeError("invalid_request", "a parameter is repeated")
    if "request" in params:
        raise AuthorizeError("request_not_supported", "request objects are not supported")
    if "request_uri" in params:
        raise AuthorizeError("request_uri_not_supported", "request_uri is not supported")
    response_type = params.get("response_type")
    if response_type is None:
        raise AuthorizeError("invalid_request", "response_type is required")
    if response_type != "code":
        raise AuthorizeError("unsupported_response_type", "only the code response type is supported")
    if "response_mode" in params and params["response_mode"] != "query":
        raise AuthorizeError("invalid_request", "only the query response mode is supported")
    scope = params.get("scope", "")
    scopes = scope.split(" ")
    if len(scope) > MAX_SCOPE_CHARS or len(scopes) > MAX_SCOPES or ("" in scopes and scope):
        raise AuthorizeError("invalid_scope", "the scope is malformed or too long")
    if scope and not set(scopes) <= set(request.client.scopes):
        raise AuthorizeError("invalid_scope", "a requested scope is not allowed for this client")
    try:
        provider.target(request.scopes, params.get("resource"))
    except TargetError as exc:
        raise AuthorizeError(exc.error, exc.description) from None
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    pkce_waived = not request.client.public and not request.client.require_pkce
    if challenge is None and method is None and pkce_waived:
        pass
    elif challenge is None:
        raise AuthorizeError("invalid_request", "code_challenge (PKCE S256) is required")
    elif method != "S256":
        raise AuthorizeError("invalid_request", "code_challenge_method must be S256")
    elif not _CHALLENGE.fullmatch(challenge):
        raise AuthorizeError("invalid_request", "code_challenge must be 43 base64url characters")
    prompts = set(params.get("prompt", "").split())
    if not prompts <= _PROMPTS or ("none" in prompts and len(prompts) > 1):
        raise AuthorizeError("invalid_request", "prompt is not valid")
    max_age = params.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) <= 9):
        raise AuthorizeError("invalid_request", "max_age must be a whole number of seconds")
    if len(params.get("state", "")) > MAX_STATE or len(params.get("nonce", "")) > MAX_NONCE:
        raise AuthorizeError("invalid_request", "state or nonce is too long")
    if len(params.get("acr_values", "")) > MAX_ACR_VALUES:
        raise AuthorizeError("invalid_request", "acr_values is too long")


def redirect_to_client(provider: Provider, request: AuthorizationRequest, values: dict[str, str]) -> Response:
    """The authorization response: ``values`` plus ``state`` and ``iss`` on the verified redirect URI."""
    body = dict(values)
    if request.state is not None:
        body["state"] = request.state
    body["iss"] = provider.settings.issuer
    location = add_query(request.redirect_uri, body)
    # no-referrer suits this redirect (unlike the pages): a GET to the client follows, never a form POST
    return RedirectResponse(location, status_code=302, headers={**NO_STORE, "Referrer-Policy": "no-referrer"})


def validate(provider: Provider, query: str) -> AuthorizationRequest | Response:
    """The checked request, or the response for a bad one (an error page or an error redirect)."""
    try:
        params, repeated = split_params(query)
    except BadParameters:
        return error_page("The request is malformed.")
    verified = _verify_client(provider, params, repeated)
    if not isinstance(verified, AuthorizationRequest):
        return verified
    try:
        _check_request(provider, verified, repeated)
    except AuthorizeError as exc:
        return redirect_to_client(
            provider, verified, {"error": exc.error, "error_description": exc.description}
        )
    return verified


def _over_limit(provider: Provider, http: Request) -> Response | None:
    limit = provider.settings.authorize_requests_per_minute_per_address
    if limit is None:
        return None
    address = request_address(http, provider.settings.proxy_networks)
    wait = provider.limits.hit(f"authorize-address:{address}", limit)
    if wait is None:
        return None
    response = error_page(
        "Too many sign-in requests came from your network. Wait a minute and try again.", 429
    )
    response.headers["Retry-After"] = str(wait)
    return response


@dataclass(frozen=True)
class Pending:
    """A stored request and the id that its URLs and forms carry (only the hash is stored)."""

    request_id: str
    record: PendingRequest


def load_pending(provider: Provider, request_id: str) -> Pending | None:
    """The live pending request for the id in a URL or form, or None."""
    record = provider.store.get_pending(secret_hash(request_id), provider.now()) if request_id else None
    return Pending(request_id, record) if record is not None else None


async def authorize(request: Request) -> Response:
    """GET ``/authorize``."""
    provider: Provider = request.app.state.provider
    return await off_loop(provider, _authorize_request, provider, request)


def _authorize_request(provider: Provider, request: Request) -> Response:
    limited = _over_limit(provider, request)
    if limited is not None:
        return limited
    return _authorize(provider, request, request.url.query, None, consented=False)


async def authorize_continue(request: Request) -> Response:
    """GET ``/authorize/continue?request=ID``: resume a request after sign-in."""
    provider: Provider = request.app.state.provider
    return await off_loop(provider, _continue, provider, request)


def _continue(provider: Provider, request: Request) -> Response:
    pending = load_pending(provider, request.query_params.get("request", ""))
    if pending is None:
        return error_page("This sign-in request has expired. Go back to the application and start again.")
    return resume(provider, request, pending)


def resume(provider: Provider, http: Request, pending: Pending, *, consented: bool = False) -> Response:
    """Carry on with a stored request; ``consented`` when the user has just approved it.

    The consent is recorded only once the request is complete, right before its code is issued.
    """
    return _authorize(provider, http, urlencode(dict(pending.record.params)), pending, consented=consented)


def _authorize(
    provider: Provider, http: Request, query: str, pending: Pending | None, *, consented: bool
) -> Response:
    verified = validate(provider, query)
    if not isinstance(verified, AuthorizationRequest):
        return verified
    params = verified.params
    try:
        found = provider.session_for(provider.cookies.read(http, provider.cookies.session_name))
    except BadParameters:
        return error_page("The request carries conflicting cookies.")
    now = provider.now()
    prompts = verified.prompts
    max_age = int(params["max_age"]) if "max_age" in params else None
    if pending is not None:
        fresh_enough = found is not None and (
            not pending.record.force_login or found[0].auth_time >= int(pending.record.created_at)
        )
    else:
        fresh_enough = (
            found is not None
            and "login" not in prompts
            and (max_age is None or now - found[0].auth_time <= max_age)
        )
    if not fresh_enough or found is None:
        if "none" in prompts:
            return redirect_to_client(
                provider, verified, {"error": "login_required", "error_description": "sign-in required"}
            )
        if pending is not None and found is not None:
            return error_page("Sign-in did not complete. Go back to the application and start again.")
        return _to_page(
            provider,
            "signin",
            params,
            pending,
            force=found is not None or "login" in prompts or max_age is not None,
        )
    session, user = found
    if requires_multi_factor(params.get("acr_values")) and not multi_factor(session.amr):
        return _step_up(provider, verified, session, user, pending)
    if consented:
        provider.store.grant_consent(user.user_id, verified.client.client_id, verified.scopes, now)
        provider.audit.event("consent_granted", user_id=user.user_id, client_id=verified.client.client_id)
    elif _needs_consent(provider, verified, user):
        if "none" in prompts:
            return redirect_to_client(
                provider, verified, {"error": "consent_required", "error_description": "consent required"}
            )
        return _to_page(provider, "consent", params, pending, force=False)
    return _issue_code(provider, verified, session, user, pending)


def _needs_consent(provider: Provider, request: AuthorizationRequest, user: User) -> bool:
    """First-party clients never ask; third-party ones when forced or asking for anything new."""
    if request.client.first_party:
        return False
    if "consent" in request.prompts:
        return True
    consent = provider.store.get_consent(user.user_id, request.client.client_id)
    return consent is None or not consent.covers(request.scopes)


def _issue_code(
    provider: Provider,
    verified: AuthorizationRequest,
    session: Session,
    user: User,
    pending: Pending | None,
) -> Response:
    params = verified.params
    if pending is not None:
        provider.store.delete_pending(pending.record.request_hash)
    code = new_secret()
    provider.store.save_code(
        AuthorizationCode(
            code_hash=secret_hash(code),
            client_id=verified.client.client_id,
            redirect_uri=verified.redirect_uri if verified.redirect_given else None,
            code_challenge=params.get("code_challenge"),
            user_id=user.user_id,
            scope=params.get("scope", ""),
            nonce=params.get("nonce"),
            auth_time=session.auth_time,
            grant_id=secrets.token_urlsafe(16),
            session_hash=session.session_hash,
            expires_at=provider.now() + provider.settings.code_seconds,
            resource=params.get("resource"),
        )
    )
    return redirect_to_client(provider, verified, {"code": code})


def _to_page(
    provider: Provider, page: str, params: dict[str, str], pending: Pending | None, *, force: bool
) -> Response:
    """Send the browser to the sign-in or consent page for this request, stored as pending."""
    request_id = _pending_id(provider, params, pending, force=force)
    location = f"{provider.settings.base_path}/{page}?{urlencode({'request': request_id})}"
    return RedirectResponse(location, status_code=303, headers=NO_STORE)


def _pending_id(provider: Provider, params: dict[str, str], pending: Pending | None, *, force: bool) -> str:
    """The id of the stored request: a request already pending keeps its own (sign-in, then consent,
    share one), a new one is stored."""
    if pending is not None:
        return pending.request_id
    request_id = new_secret()
    now = provider.now()
    provider.store.save_pending(
        PendingRequest(
            request_hash=secret_hash(request_id),
            params=params,
            created_at=now,
            expires_at=now + provider.settings.pending_request_seconds,
            force_login=force,
        )
    )
    return request_id


def _step_up(
    provider: Provider,
    verified: AuthorizationRequest,
    session: Session,
    user: User,
    pending: Pending | None,
) -> Response:
    """The client asked for MFA (``acr_values``) and the session has one factor: the TOTP step.

    Without a browser to ask (``prompt=none``) the answer is ``interaction_required``; a user
    with no second factor enrolled is refused with ``access_denied``.
    """
    if "none" in verified.prompts:
        return redirect_to_client(
            provider,
            verified,
            {"error": "interaction_required", "error_description": "multi-factor authentication required"},
        )
    if not needs_second_factor(provider, user, session.amr):
        provider.audit.event("sign_in_failed", user_id=user.user_id, reason="mfa_not_enrolled")
        return redirect_to_client(
            provider,
            verified,
            {
                "error": "access_denied",
                "error_description": "the client requires multi-factor authentication; "
                "the user has no second factor enrolled",
            },
        )
    request_id = _pending_id(provider, verified.params, pending, force=False)
    response = RedirectResponse(second_factor_url(provider), status_code=303, headers=NO_STORE)
    upstream = provider.session_upstream(session)
    begin_second_factor(
        provider, response, user, session.amr, request_id=request_id, then="", upstream=upstream
    )
    provider.audit.event("second_factor_required", user_id=user.user_id, client_id=verified.client.client_id)
    return response
