"""Shared test material for the protect tests: an offline issuer, its verifier, event fixtures."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from tessera import Verifier
from tessera.testing import LocalIssuer

EVENTS = Path(__file__).parent / "events"
AUDIENCE = "orders-api"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of the JSON event fixture ``name`` (without the .json suffix)."""
    document: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return copy.deepcopy(document)


class Api:
    """An offline issuer and a verifier that trusts it, with the tokens every adapter test sends."""

    def __init__(self, alg: str = "ES256") -> None:
        self.issuer = LocalIssuer(alg, url="https://issuer.test")
        self.verifier = Verifier(
            issuer=self.issuer.issuer, audience=AUDIENCE, token_type="at+jwt", jwks=self.issuer.jwks()
        )

    def token(self, **overrides: Any) -> str:
        """A genuine token for the API (``scope`` "orders:read orders:write" unless overridden)."""
        claims: dict[str, Any] = {"aud": AUDIENCE, "scope": "orders:read orders:write", "sub": "alice"}
        claims.update(overrides)
        return self.issuer.mint(**claims)

    def expired(self) -> str:
        """A token that expired an hour ago."""
        now = int(time.time())
        return self.token(iat=now - 7200, exp=now - 3600)

    def wrong_audience(self) -> str:
        """A token for another API."""
        return self.token(aud="billing-api")

    def read_only(self) -> str:
        """A token without ``orders:write``."""
        return self.token(scope="orders:read")

    def forged(self) -> str:
        """A token signed by a key the API does not trust."""
        return LocalIssuer("ES256", url=self.issuer.issuer).mint(
            aud=AUDIENCE, sub="mallory", scope="orders:write"
        )


def bearer(token: str) -> str:
    """The Authorization header value for ``token``."""
    return f"Bearer {token}"
