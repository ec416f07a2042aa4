"""``/authorize``: the authorization code flow with PKCE S256 (RFC 6749 §4.1, RFC 7636, RFC 9207).

Order of checks: the client and the redirect URI first, answered with an error page and never
a redirect (AS-01, AS-03, AS-04); only then the rest of the request, whose errors are
redirected to the verified redirect URI with ``state`` and ``iss``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..store import AuthorizationCode, ClientRecord, PendingRequest, secret_hash
from .provider import Provider
from .redirects import add_query, redirect_uri_matches
from .tokens import new_secret
from .web import MAX_PARAMS, NO_STORE, error_page

__all__ = ["authorize", "authorize_continue"]

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_CLIENT_ID = 256
MAX_STATE = 4096
MAX_NONCE = 512
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


def _split_query(raw: str) -> tuple[dict[str, str], frozenset[str]] | None:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_PARAMS, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    params: dict[str, str] = {}
    seen: set[str] = set()
    repeated: set[str] = set()
    for name, value in pairs:
        if name in seen:
            repeated.add(name)
        seen.add(name)
        if value != "":
            params[name] = value
    return params, frozenset(repeated)


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


def _check_request(request: AuthorizationRequest, repeated: frozenset[str]) -> None:
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


def _redirect(provider: Provider, request: AuthorizationRequest, values: dict[str, str]) -> Response:
    body = dict(values)
    if request.state is not None:
        body["state"] = request.state
    body["iss"] = provider.settings.issuer
    location = add_query(request.redirect_uri, body)
    return RedirectResponse(location, status_code=302, headers={**NO_STORE, "Referrer-Policy": "no-referrer"})


async def authorize(request: Request) -> Response:
    """GET ``/authorize``."""
    return _authorize(request.app.state.provider, request, request.url.query, None)


async def authorize_continue(request: Request) -> Response:
    """GET ``/authorize/continue?request=ID``: resume a request after sign-in."""
    provider: Provider = request.app.state.provider
    request_id = request.query_params.get("request", "")
    pending = provider.store.get_pending(secret_hash(request_id), provider.now()) if request_id else None
    if pending is None:
        return error_page("This sign-in request has expired. Go back to the application and start again.")
    return _authorize(provider, request, urlencode(dict(pending.params)), pending)


def _authorize(provider: Provider, http: Request, query: str, pending: PendingRequest | None) -> Response:
    split = _split_query(query)
    if split is None:
        return error_page("The request is malformed.")
    params, repeated = split
    verified = _verify_client(provider, params, repeated)
    if not isinstance(verified, AuthorizationRequest):
        return verified
    try:
        _check_request(verified, repeated)
    except AuthorizeError as exc:
        return _redirect(provider, verified, {"error": exc.error, "error_description": exc.description})
    try:
        found = provider.session_for(provider.cookies.read(http, provider.cookies.session_name))
    except ValueError:
        return error_page("The request carries conflicting cookies.")
    now = provider.now()
    prompts = set(params.get("prompt", "").split())
    max_age = int(params["max_age"]) if "max_age" in params else None
    if pending is not None:
        fresh_enough = found is not None and (
            not pending.force_login or found[0].auth_time >= int(pending.created_at)
        )
    else:
        fresh_enough = (
            found is not None
            and "login" not in prompts
            and (max_age is None or now - found[0].auth_time <= max_age)
        )
    if not fresh_enough or found is None:
        if "none" in prompts:
            return _redirect(
                provider, verified, {"error": "login_required", "error_description": "sign-in required"}
            )
        if pending is not None and found is not None:
            return error_page("Sign-in did not complete. Go back to the application and start again.")
        return _to_sign_in(
            provider, params, force=found is not None or "login" in prompts or max_age is not None
        )
    if not verified.client.first_party:
        # No consent screen yet: only first-party clients, whose consent is implied, get codes.
        return _redirect(
            provider, verified, {"error": "consent_required", "error_description": "consent required"}
        )
    session, user = found
    if pending is not None:
        provider.store.delete_pending(pending.request_hash)
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
            expires_at=now + provider.settings.code_seconds,
        )
    )
    return _redirect(provider, verified, {"code": code})


def _to_sign_in(provider: Provider, params: dict[str, str], *, force: bool) -> Response:
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
    location = f"{provider.settings.base_path}/signin?{urlencode({'request': request_id})}"
    return RedirectResponse(location, status_code=303, headers=NO_STORE)
