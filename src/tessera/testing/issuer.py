"""A local token issuer: signing keys, a JWKS and OpenID discovery on real HTTP, and a minter."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from ..keys import SigningKey
from .http import LocalHTTPServer, Response

__all__ = ["LocalIssuer"]


class LocalIssuer:
    """An OpenID issuer on 127.0.0.1 for tests and local development.

    It serves ``/.well-known/openid-configuration`` and ``/jwks`` (and ``/.well-known/jwks.json``,
    Cognito's spelling), holds one or more signing keys, and mints tokens with :meth:`mint`.
    ``path`` puts the issuer under a path (``/us-east-1_Pool``, ``/tenant/v2.0``). With ``url``
    the issuer is offline: no server is created and ``iss`` is ``url`` (for minting only).
    """

    def __init__(
        self,
        alg: str = "RS256",
        path: str = "",
        *,
        server: LocalHTTPServer | None = None,
        url: str | None = None,
    ) -> None:
        self._url = url
        self.server = server if server is not None or url is not None else LocalHTTPServer()
        self.path = path.rstrip("/")
        self.keys: list[SigningKey] = [SigningKey.generate(alg)]
        self.published: list[SigningKey] = list(self.keys)
        self.jwks_path = f"{self.path}/jwks"
        self.jwks_response: Response | None = None  # set to make the JWKS endpoint misbehave
        if self.server is not None:
            self.server.routes[f"{self.path}/.well-known/openid-configuration"] = self._discovery
            self.server.routes[self.jwks_path] = self._jwks
            self.server.routes[f"{self.path}/.well-known/jwks.json"] = self._jwks

    @property
    def base_url(self) -> str:
        """The server's origin, or the offline URL."""
        return self.server.url if self.server is not None else str(self._url)

    @property
    def issuer(self) -> str:
        """The issuer URL (``iss``)."""
        return self._url if self._url is not None else f"{self.base_url}{self.path}"

    @property
    def jwks_uri(self) -> str:
        """Where the JWKS is served."""
        return f"{self.base_url}{self.jwks_path}"

    @property
    def key(self) -> SigningKey:
        """The current signing key."""
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        """The published JWKS document."""
        return {"keys": [k.public_jwk() for k in self.published]}

    def add_key(self, alg: str | None = None, *, publish: bool = True) -> SigningKey:
        """Generate a new current key (published unless ``publish`` is False)."""
        key = SigningKey.generate(alg or self.key.alg)
        self.keys.append(key)
        if publish:
            self.published.append(key)
        return key

    def unpublish(self, key: SigningKey) -> None:
        """Remove ``key`` from the JWKS (it can still sign, as a retired key would)."""
        self.published = [k for k in self.published if k.kid != key.kid]

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Typical access-token claims, with ``overrides`` applied (a value of None removes a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "user-123",
            "aud": "api",
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
            "client_id": "client-1",
            "scope": "read write",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        typ: str | None = "at+jwt",
        header: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A signed token: ``claims`` as given, or :meth:`claims` with ``overrides``."""
        body = dict(claims) if claims is not None else self.claims(**overrides)
        return (key or self.key).sign_jwt(body, typ=typ, **dict(header or {}))

    def _discovery(self) -> Response:
        return Response.json(
            {
                "issuer": self.issuer,
                "jwks_uri": self.jwks_uri,
                "id_token_signing_alg_values_supported": sorted({k.alg for k in self.published}),
            }
        )

    def _jwks(self) -> Response:
        if self.jwks_response is not None:
            return self.jwks_response
        return Response.json(self.jwks(), headers={"Cache-Control": "max-age=300"})

    def start(self) -> LocalIssuer:
        """Start the HTTP server."""
        if self.server is None:
            raise RuntimeError("an offline LocalIssuer has no server")
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop the HTTP server."""
        if self.server is not None:
            self.server.stop()

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
