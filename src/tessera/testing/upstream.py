"""A fake upstream provider for federation tests: authorization, token and userinfo endpoints.

:class:`FakeUpstream` puts a working OAuth 2.0 / OpenID Connect authorization server on real
HTTP in front of a :class:`~tessera.testing.LocalIssuer` (an online one, whose discovery then
lists the new endpoints, or an offline one shaped like Google, Entra, Auth0 or Cognito, whose
endpoints are then set on the upstream by hand). The authorization endpoint approves at once,
as the person :attr:`FakeUpstream.person` (its claims), and redirects back with a code (or
answers with a self-posting form for ``response_mode=form_post``). The token endpoint checks
what a real one checks (client secret, single use, redirect URI, PKCE S256) and mints an ID
token whose claims a test may bend with :attr:`FakeUpstream.id_token_overrides`.
:class:`FakeGitHub` is GitHub's OAuth endpoints and user API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from ..keys import SigningKey
from .http import LocalHTTPServer, Request, Response
from .issuer import LocalIssuer

__all__ = ["FakeGitHub", "FakeUpstream", "IssuedCode", "form_fields"]


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))


def _oauth_error(error: str, status: int = 400) -> Response:
    return Response.json({"error": error}, status, {"Cache-Control": "no-store"})


@dataclass
class IssuedCode:
    """An authorization code the fake issued, with what it is bound to."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    claims: dict[str, Any]
    used: bool = False


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class _Client:
    secret: str | Callable[[str], bool] | None
    redirect_uris: tuple[str, ...]
    jwks: Mapping[str, Any] | None = None

    def accepts(self, secret: str) -> bool:
        if self.secret is None:
            return False
        if callable(self.secret):
            return self.secret(secret)
        return hmac.compare_digest(self.secret.encode(), secret.encode())


@dataclass
class FakeUpstream:
    """An authorization server in front of ``issuer``, on ``server`` (a new one by default)."""

    issuer: LocalIssuer
    server: LocalHTTPServer = field(default_factory=LocalHTTPServer)
    clock: Callable[[], float] = time.time
    send_iss: bool = True
    person: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "up-123",
            "email": "carol@example.com",
            "email_verified": True,
            "name": "Carol",
        }
    )
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    sign_with: SigningKey | None = None
    userinfo_extra: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    clients: dict[str, _Client] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issue_refresh_tokens: bool = False
    refused_assertions: list[str] = field(default_factory=list)
    _access: dict[str, dict[str, Any]] = field(default_factory=dict)
    _refresh: set[str] = field(default_factory=set)
    _seen_jti: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        handlers = self.server.handlers
        handlers["/authorize"] = self._authorize
        handlers["/token"] = self._token
        handlers["/userinfo"] = self._userinfo
        self.server.routes["/jwks"] = lambda: Response.json(self.issuer.jwks())
        if self.issuer.server is not None:
            self.issuer.server.routes[f"{self.issuer.path}/.well-known/openid-configuration"] = (
                self._discovery
            )

    def register(self, client_id: str, secret: str | Callable[[str], bool], *redirect_uris: str) -> None:
        """Register a client with its secret (or a check of it) and exact redirect URIs."""
        self.clients[client_id] = _Client(secret, redirect_uris)

    def register_private_key_jwt(self, client_id: str, jwks: Mapping[str, Any], *redirect_uris: str) -> None:
        """Register a client that authenticates with RFC 7523 assertions signed by a key of ``jwks``."""
        self.clients[client_id] = _Client(None, redirect_uris, jwks=dict(jwks))

    @property
    def issued_tokens(self) -> set[str]:
        """Every access and refresh token this fake issued."""
        return set(self._access) | self._refresh

    @property
    def endpoints(self) -> dict[str, str]:
        """The endpoint settings of an upstream that uses this fake without discovery."""
        base = self.server.url
        return {
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
        }

    def start(self) -> FakeUpstream:
        """Start the servers."""
        self.server.start()
        if self.issuer.server is not None:
            self.issuer.start()
        return self

    def stop(self) -> None:
        """Stop the servers."""
        self.server.stop()
        if self.issuer.server is not None:
            self.issuer.stop()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _discovery(self) -> Response:
        return Response.json(
            {
                "issuer": self.issuer.issuer,
                "jwks_uri": self.issuer.jwks_uri,
                "id_token_signing_alg_values_supported": sorted({k.alg for k in self.issuer.published}),
                "authorization_response_iss_parameter_supported": self.send_iss,
                **self.endpoints,
            }
        )

    def authorize_url_params(self, query: str) -> dict[str, str]:
        """The parameters of an authorization request's query."""
        return dict(parse_qsl(query, keep_blank_values=True))

    def _authorize(self, request: Request) -> Response:
        params = self.authorize_url_params(request.query)
        client = self.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return Response(400, b"unknown client or redirect_uri")
        answer: dict[str, str] = {}
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256":
            answer["error"] = "invalid_request"
        else:
            code = secrets.token_urlsafe(24)
            self.codes[code] = IssuedCode(
                client_id=params["client_id"],
                redirect_uri=redirect_uri,
                challenge=params.get("code_challenge", ""),
                nonce=params.get("nonce"),
                claims=dict(self.person),
            )
            answer["code"] = code
        if "state" in params:
            answer["state"] = params["state"]
        if self.send_iss:
            answer["iss"] = self.issuer.issuer
        if params.get("response_mode") == "form_post":
            fields = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in answer.items()
            )
            page = f'<form method="post" action="{html.escape(redirect_uri)}">{fields}</form>'
            return Response(200, page.encode(), {"Content-Type": "text/html"})
        separator = "&" if "?" in redirect_uri else "?"
        return Response(302, b"", {"Location": f"{redirect_uri}{separator}{urlencode(answer)}"})

    def _asserted_client(self, form: dict[str, str]) -> str | None:
        """The client an RFC 7523 assertion authenticates (RFC 7523 §3), or None with the reason kept."""
        from ..errors import TokenError
        from ..verify import ANY, Verifier

        client_id = form.get("client_id", "")
        client = self.clients.get(client_id)
        if client is None or client.jwks is None:
            self.refused_assertions.append("unknown_client")
            return None
        verifier = Verifier(
            issuer=client_id,
            audience=self.endpoints["token_endpoint"],
            token_type=ANY,
            jwks=client.jwks,
            algorithms=["RS256", "ES256", "EdDSA"],
            leeway_seconds=0,
            required_claims=("iss", "sub", "aud", "exp", "jti"),
            roles_claim=None,
            cache_size=0,
            clock=self.clock,
        )
        try:
            claims = verifier.verify(form.get("client_assertion", ""))
        except TokenError as exc:
            self.refused_assertions.append(exc.reason.value)
            return None
        if claims.get("sub") != client_id:
            self.refused_assertions.append("sub")
            return None
        jti = str(claims["jti"])
        if jti in self._seen_jti:
            self.refused_assertions.append("jti_reused")
            return None
        self._seen_jti.add(jti)
        return client_id

    def _client_of(self, request: Request, form: dict[str, str]) -> str | None:
        if form.get("client_assertion_type") == JWT_BEARER:
            return self._asserted_client(form)
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.clients.get(client_id)
        if client is None or not client.accepts(secret):
            return None
        return client_id

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, b"")
        form = _form(request.body)
        self.token_requests.append(form)
        client_id = self._client_of(request, form)
        if client_id is None:
            return _oauth_error("invalid_client", 401)
        issued = self.codes.get(form.get("code", ""))
        if issued is None or issued.used or issued.client_id != client_id:
            return _oauth_error("invalid_grant")
        issued.used = True
        if form.get("redirect_uri") != issued.redirect_uri:
            return _oauth_error("invalid_grant")
        if not hmac.compare_digest(_s256(form.get("code_verifier", "")), issued.challenge):
            return _oauth_error("invalid_grant")
        now = int(self.clock())
        access_token = secrets.token_urlsafe(24)
        self._access[access_token] = issued.claims
        claims: dict[str, Any] = {
            "iss": self.issuer.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 600,
            **issued.claims,
        }
        if issued.nonce is not None:
            claims["nonce"] = issued.nonce
        claims.update(self.id_token_overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        id_token = (self.sign_with or self.issuer.key).sign_jwt(claims, typ="JWT")
        answer: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
        }
        if self.issue_refresh_tokens:
            answer["refresh_token"] = secrets.token_urlsafe(32)
            self._refresh.add(answer["refresh_token"])
        return Response.json(answer, headers={"Cache-Control": "no-store"})

    def _userinfo(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        claims = self._access.get(token)
        if claims is None:
            return Response(401, b"")
        return Response.json({**claims, **self.userinfo_extra})


@dataclass
class FakeGitHub:
    """GitHub's OAuth endpoints and the user API (``/user``, ``/user/emails``) on real HTTP."""

    server: LocalHTTPServer = field(default_factory=LocalHTTPServer)
    user: dict[str, Any] = field(default_factory=lambda: {"id": 4242, "login": "octo", "name": "Octo Cat"})
    emails: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"email": "octo@example.com", "primary": True, "verified": True},
            {"email": "other@example.com", "primary": False, "verified": True},
        ]
    )
    clients: dict[str, _Client] = field(default_factory=dict)
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    _tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.server.handlers["/login/oauth/authorize"] = self._authorize
        self.server.handlers["/login/oauth/access_token"] = self._token
        self.server.handlers["/user"] = self._user
        self.server.handlers["/user/emails"] = self._emails

    def register(self, client_id: str, secret: str, *redirect_uris: str) -> None:
        """Register an OAuth app."""
        self.clients[client_id] = _Client(secret, redirect_uris)

    @property
    def settings(self) -> dict[str, str]:
        """The endpoint settings of a ``preset = "github"`` upstream pointed at this fake."""
        base = self.server.url
        return {
            "authorization_endpoint": f"{base}/login/oauth/authorize",
            "token_endpoint": f"{base}/login/oauth/access_token",
            "api_base": base,
        }

    def start(self) -> FakeGitHub:
        """Start the server."""
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop the server."""
        self.server.stop()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _authorize(self, request: Request) -> Response:
        params = dict(parse_qsl(request.query))
        client = self.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return Response(400, b"unknown client")
        code = secrets.token_urlsafe(16)
        self.codes[code] = IssuedCode(
            params["client_id"], redirect_uri, params.get("code_challenge", ""), None, {}
        )
        query = urlencode({"code": code, "state": params.get("state", "")})
        return Response(302, b"", {"Location": f"{redirect_uri}?{query}"})

    def _token(self, request: Request) -> Response:
        form = _form(request.body)
        client = self.clients.get(form.get("client_id", ""))
        issued = self.codes.pop(form.get("code", ""), None)
        if client is None or not client.accepts(form.get("client_secret", "")):
            return Response.json({"error": "incorrect_client_credentials"})
        if issued is None or (issued.challenge and _s256(form.get("code_verifier", "")) != issued.challenge):
            # GitHub answers 200 with an error body.
            return Response.json({"error": "bad_verification_code"})
        token = "gho_" + secrets.token_urlsafe(24)
        self._tokens.add(token)
        return Response.json({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "").removeprefix("Bearer ") in self._tokens

    def _user(self, request: Request) -> Response:
        return Response.json(self.user) if self._authorized(request) else Response(401, b"")

    def _emails(self, request: Request) -> Response:
        return Response.json(self.emails) if self._authorized(request) else Response(401, b"")


def form_fields(page: str) -> Mapping[str, str]:
    """The hidden fields of a self-posting form (the ``form_post`` answer), for HTTP-level tests."""
    import re

    return {
        html.unescape(m.group(1)): html.unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    }
