"""The federated sign-in protocol, free of any web framework.

:meth:`Federation.start` makes the authorization request (code flow, PKCE S256, ``state`` and
``nonce``) and the browser binding; :meth:`Federation.finish` checks the answer in the order
the BCPs give (RFC 9700 §4.4 and §4.7, RFC 9207, OIDC Core §3.1.3.7) and returns the upstream
identity. ``state`` is stored only as a hash and taken by one atomic delete, so it works once;
the nonce and the PKCE verifier are derived from ``state`` under a key of Tessera's, so they
are never stored at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tessera.encoding import b64url_decode, b64url_encode
from tessera.errors import Reason, TokenError
from tessera.issue.redirects import add_query
from tessera.issue.signin.federation.discovery import EndpointCache, UpstreamEndpoints
from tessera.issue.signin.federation.errors import FederationError, FederationFailure
from tessera.issue.signin.federation.http import UpstreamHTTP, UrllibUpstreamHTTP, json_body
from tessera.issue.signin.federation.kept_tokens import kept_from_response, seal_kept_tokens
from tessera.issue.signin.federation.upstreams import Upstream
from tessera.keys import SigningKey
from tessera.keys.sealing import MasterKey
from tessera.store import FederatedStore, UpstreamLogin, secret_hash
from tessera.verify import ANY, Verifier
from tessera.verify.fetch import FetchError

__all__ = ["Federation", "FinishedLogin", "StartedLogin", "UpstreamIdentity"]

LOGIN_SECONDS = 600
ASSERTION_SECONDS = 60
APPLE_AUDIENCE = "https://appleid.apple.com"


@dataclass(frozen=True)
class StartedLogin:
    """Where to send the browser, and the binding cookie's value to set on it."""

    location: str
    binding_cookie: str


@dataclass(frozen=True)
class UpstreamIdentity:
    """Who the upstream says signed in."""

    upstream_id: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


@dataclass(frozen=True)
class FinishedLogin:
    """A verified identity, the authorization request to resume, and the user who is linking, if any.

    ``kept_tokens`` holds the upstream's tokens only when its ``keep_tokens`` setting is on.
    """

    identity: UpstreamIdentity
    request_id: str
    linking_user_id: str | None
    kept_tokens: Mapping[str, Any] | None = field(default=None, repr=False)


def split_binding(cookie: str | None) -> tuple[str, str]:
    """The (binding secret, pending request id) in a binding cookie; empty strings when absent."""
    if not cookie:
        return "", ""
    binding, _, request_id = cookie.partition(".")
    return binding, request_id


def _derived(key: bytes, purpose: str, state: str) -> str:
    return b64url_encode(hmac.digest(key, f"{purpose}\x00{state}".encode(), hashlib.sha256))


def _s256(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def _truthy(value: object) -> bool:
    """``email_verified`` as a boolean: Apple and Cognito send the strings ``"true"``/``"false"``."""
    return value is True or value == "true"


def _unverified_issuer(token: str) -> str | None:
    """The ``iss`` a token claims, read without checking it, only to pick the verifier."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else None


class Federation:
    """The configured upstreams and the protocol to sign in with them."""

    def __init__(
        self,
        upstreams: tuple[Upstream, ...],
        *,
        issuer: str,
        store: FederatedStore,
        key: bytes,
        signing_key: Callable[[], SigningKey],
        clock: Callable[[], float],
        http: UpstreamHTTP | None = None,
        environ: Mapping[str, str] | None = None,
        master_key: MasterKey | None = None,
    ) -> None:
        self.upstreams = {u.id: u for u in upstreams}
        self.issuer = issuer
        self.store = store
        self._key = key
        self._signing_key = signing_key
        self._clock = clock
        self.http = http or UrllibUpstreamHTTP()
        self._environ = environ if environ is not None else os.environ
        self._master_key = master_key
        self.endpoints = EndpointCache(self.http, clock)

    def get(self, upstream_id: str) -> Upstream:
        """The upstream with this id; raise FederationError (``unknown_upstream``)."""
        upstream = self.upstreams.get(upstream_id)
        if upstream is None:
            raise FederationError(FederationFailure.UNKNOWN_UPSTREAM)
        return upstream

    def _endpoints(self, upstream: Upstream) -> UpstreamEndpoints:
        try:
            return self.endpoints.get(upstream)
        except FetchError as exc:
            raise FederationError(FederationFailure.UPSTREAM_UNREACHABLE, upstream.name, str(exc)) from None

    # the request
    def start(
        self, upstream: Upstream, *, request_id: str, linking_user_id: str | None = None
    ) -> StartedLogin:
        """The authorization request to ``upstream``; its state is stored (hashed) for ten minutes."""
        endpoints = self._endpoints(upstream)
        now = self._clock()
        state = secrets.token_urlsafe(32)
        binding = secrets.token_urlsafe(32)
        self.store.save_upstream_login(
            UpstreamLogin(
                state_hash=secret_hash(state),
                upstream_id=upstream.id,
                binding_hash=secret_hash(binding),
                created_at=now,
                expires_at=now + LOGIN_SECONDS,
                linking_user_id=linking_user_id,
            )
        )
        params = {
            "response_type": "code",
            "client_id": upstream.client_id,
            "redirect_uri": upstream.callback_url(self.issuer),
            "scope": " ".join(upstream.scopes),
            "state": state,
            "code_challenge": _s256(_derived(self._key, "pkce", state)),
            "code_challenge_method": "S256",
        }
        if upstream.kind == "oidc":
            params["nonce"] = _derived(self._key, "nonce", state)
        if upstream.response_mode != "query":
            params["response_mode"] = upstream.response_mode
        location = add_query(endpoints.authorization_endpoint, params)
        return StartedLogin(location, f"{binding}.{request_id}")

    # the answer
    def finish(
        self, upstream_id: str, params: Mapping[str, str], binding_cookie: str | None
    ) -> FinishedLogin:
        """Check the upstream's answer and read the identity; raise FederationError.

        The order: the upstream is ours; ``state`` is present, live and unused (taken now, so a
        second use fails); it was made for this upstream (mix-up) and in this browser; ``iss``
        is the upstream's when sent (and must be sent when its metadata says so); only then the
        upstream's own ``error``, the code exchange and the ID token.
        """
        upstream = self.get(upstream_id)
        state = params.get("state")
        if not state:
            raise FederationError(FederationFailure.STATE_MISSING, upstream.name)
        login = self.store.take_upstream_login(secret_hash(state), self._clock())
        if login is None:
            raise FederationError(FederationFailure.STATE_UNKNOWN, upstream.name)
        if login.upstream_id != upstream.id:
            raise FederationError(FederationFailure.MIX_UP, upstream.name)
        binding, request_id = split_binding(binding_cookie)
        if not binding or not hmac.compare_digest(secret_hash(binding), login.binding_hash):
            raise FederationError(FederationFailure.WRONG_BROWSER, upstream.name)
        endpoints = self._endpoints(upstream)
        iss = params.get("iss")
        if iss is not None and iss != endpoints.issuer and iss not in upstream.accepted_issuers:
            raise FederationError(FederationFailure.WRONG_ISS, upstream.name)
        if iss is None and endpoints.iss_parameter_supported:
            raise FederationError(FederationFailure.WRONG_ISS, upstream.name, "iss is missing")
        if "error" in params:
            raise FederationError(FederationFailure.UPSTREAM_ERROR, upstream.name, params["error"][:64])
        code = params.get("code")
        if not code:
            raise FederationError(FederationFailure.CODE_MISSING, upstream.name)
        tokens = self._redeem(upstream, endpoints, code, _derived(self._key, "pkce", state))
        if upstream.kind == "github":
            identity = self._github_identity(upstream, tokens)
        else:
            identity = self._oidc_identity(upstream, endpoints, tokens, _derived(self._key, "nonce", state))
        kept = kept_from_response(tokens, self._clock()) if upstream.keep_tokens else None
        return FinishedLogin(identity, request_id, login.linking_user_id, kept)

    def keep_tokens(self, login: FinishedLogin, user_id: str) -> bool:
        """Store the login's upstream tokens sealed on its link, when its upstream keeps them.

        False when there is nothing to keep (``keep_tokens`` off) or the identity is not linked
        to ``user_id``.
        """
        if login.kept_tokens is None:
            return False
        if self._master_key is None:
            raise FederationError(FederationFailure.MISCONFIGURED, detail="no master key to seal tokens")
        identity = login.identity
        sealed = seal_kept_tokens(
            self._master_key, user_id, identity.upstream_id, identity.subject, login.kept_tokens
        )
        return self.store.keep_upstream_tokens(identity.upstream_id, identity.subject, user_id, sealed)

    def _client_auth(
        self, upstream: Upstream, endpoints: UpstreamEndpoints
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(form fields, headers) that authenticate Tessera at the upstream's token endpoint."""
        now = int(self._clock())
        if upstream.private_key_jwt:
            assertion = self._signing_key().sign_jwt(
                {
                    "iss": upstream.client_id,
                    "sub": upstream.client_id,
                    "aud": endpoints.token_endpoint,
                    "jti": secrets.token_urlsafe(16),
                    "iat": now,
                    "exp": now + ASSERTION_SECONDS,
                }
            )
            return {
                "client_id": upstream.client_id,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }, {}
        if upstream.apple_private_key_env is not None:
            pem = self._environ.get(upstream.apple_private_key_env)
            if not pem:
                raise FederationError(
                    FederationFailure.MISCONFIGURED, upstream.name, "the Apple key is not set"
                )
            try:
                key = SigningKey.from_pem(pem.encode(), "ES256", kid=upstream.apple_key_id)
            except (ValueError, TypeError) as exc:
                raise FederationError(
                    FederationFailure.MISCONFIGURED, upstream.name, "the Apple key is unusable"
                ) from exc
            secret = key.sign_jwt(
                {
                    "iss": upstream.apple_team_id,
                    "iat": now,
                    "exp": now + 300,
                    "aud": APPLE_AUDIENCE,
                    "sub": upstream.client_id,
                },
                typ=None,
            )
            return {"client_id": upstream.client_id, "client_secret": secret}, {}
        secret_value = self._environ.get(upstream.client_secret_env or "")
        if not secret_value:
            raise FederationError(
                FederationFailure.MISCONFIGURED, upstream.name, "the client secret is not set"
            )
        if upstream.token_endpoint_auth_method == "client_secret_post":
            return {"client_id": upstream.client_id, "client_secret": secret_value}, {}
        basic = f"{quote(upstream.client_id, safe='')}:{quote(secret_value, safe='')}"
        return {}, {"Authorization": "Basic " + base64.b64encode(basic.encode()).decode("ascii")}

    def _redeem(
        self, upstream: Upstream, endpoints: UpstreamEndpoints, code: str, verifier: str
    ) -> dict[str, Any]:
        fields, headers = self._client_auth(upstream, endpoints)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": upstream.callback_url(self.issuer),
            "code_verifier": verifier,
            **fields,
        }
        url = endpoints.token_endpoint
        try:
            result = self.http.request("POST", url, headers=headers, form=form)
            body = json_body(result, url)
        except FetchError as exc:
            raise FederationError(FederationFailure.UPSTREAM_UNREACHABLE, upstream.name, str(exc)) from None
        if result.status != 200 or "error" in body or not isinstance(body.get("access_token"), str):
            error = body.get("error")
            raise FederationError(
                FederationFailure.TOKEN_REFUSED,
                upstream.name,
                str(error)[:64] if error else f"status {result.status}",
            )
        return body

    def _verifier(self, upstream: Upstream, endpoints: UpstreamEndpoints, issuer: str) -> Verifier:
        def authorized_party(claims: Mapping[str, Any], typ: str | None) -> None:
            audiences = claims.get("aud")
            azp = claims.get("azp")
            several = isinstance(audiences, list) and len(audiences) > 1
            if (several or azp is not None) and azp != upstream.client_id:
                raise TokenError(Reason.WRONG_CLIENT, claim="azp")

        return Verifier(
            issuer=issuer,
            audience=upstream.client_id,
            token_type=ANY,
            jwks_uri=endpoints.jwks_uri,
            algorithms=endpoints.id_token_algorithms,
            leeway_seconds=60,
            required_claims=("iss", "sub", "aud", "exp", "iat"),
            roles_claim=None,
            checks=(authorized_party,),
            cache_size=0,
            clock=self._clock,
        )

    def _oidc_identity(
        self, upstream: Upstream, endpoints: UpstreamEndpoints, tokens: Mapping[str, Any], nonce: str
    ) -> UpstreamIdentity:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise FederationError(FederationFailure.ID_TOKEN_INVALID, upstream.name, "no ID token")
        claimed = _unverified_issuer(id_token)
        if claimed is None or claimed not in upstream.accepted_issuers:
            raise FederationError(FederationFailure.ID_TOKEN_INVALID, upstream.name, "wrong_issuer")
        try:
            claims = self._verifier(upstream, endpoints, claimed).verify(id_token)
        except TokenError as exc:
            raise FederationError(
                FederationFailure.ID_TOKEN_INVALID, upstream.name, exc.reason.value
            ) from None
        sent_nonce = claims.get("nonce")
        if not isinstance(sent_nonce, str) or not hmac.compare_digest(sent_nonce.encode(), nonce.encode()):
            raise FederationError(FederationFailure.NONCE_MISMATCH, upstream.name)
        subject = str(claims["sub"])
        found: dict[str, Any] = dict(claims)
        wanted = "email" in upstream.scopes and "email" not in found
        if wanted and endpoints.userinfo_endpoint and isinstance(tokens.get("access_token"), str):
            profile = self._get_json(upstream, endpoints.userinfo_endpoint, str(tokens["access_token"]))
            if profile.get("sub") != subject:
                raise FederationError(FederationFailure.USERINFO_MISMATCH, upstream.name)
            for claim in ("email", "email_verified", "name"):
                if claim not in found and claim in profile:
                    found[claim] = profile[claim]
        email = found.get("email")
        name = found.get("name")
        return UpstreamIdentity(
            upstream_id=upstream.id,
            subject=subject,
            email=email if isinstance(email, str) and "@" in email else None,
            email_verified=_truthy(found.get("email_verified")),
            name=name if isinstance(name, str) else "",
        )

    def _get_json(self, upstream: Upstream, url: str, access_token: str) -> dict[str, Any]:
        try:
            result = self.http.request("GET", url, headers={"Authorization": f"Bearer {access_token}"})
            if result.status != 200:
                raise FederationError(
                    FederationFailure.TOKEN_REFUSED, upstream.name, f"status {result.status}"
                )
            return json_body(result, url)
        except FetchError as exc:
            raise FederationError(FederationFailure.UPSTREAM_UNREACHABLE, upstream.name, str(exc)) from None

    def _github_identity(self, upstream: Upstream, tokens: Mapping[str, Any]) -> UpstreamIdentity:
        """GitHub is OAuth 2.0 only: the user API after the code, and only the primary verified email."""
        base = (upstream.api_base or "").rstrip("/")
        token = str(tokens["access_token"])
        user = self._get_json(upstream, f"{base}/user", token)
        user_id = user.get("id")
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise FederationError(FederationFailure.ID_TOKEN_INVALID, upstream.name, "no user id")
        try:
            result = self.http.request(
                "GET", f"{base}/user/emails", headers={"Authorization": f"Bearer {token}"}
            )
            listed: Any = json.loads(result.body) if result.status == 200 else []
        except (FetchError, ValueError, UnicodeDecodeError):
            listed = []
        primary = [
            e
            for e in (listed if isinstance(listed, list) else [])
            if isinstance(e, dict) and e.get("primary") is True and e.get("verified") is True
        ]
        email = primary[0].get("email") if primary else None
        name = user.get("name") or user.get("login") or ""
        return UpstreamIdentity(
            upstream_id=upstream.id,
            subject=str(user_id),
            email=email if isinstance(email, str) and "@" in email else None,
            email_verified=isinstance(email, str),
            name=name if isinstance(name, str) else "",
        )
