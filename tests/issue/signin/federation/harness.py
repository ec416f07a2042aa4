"""A provider with upstreams (fake ones on real HTTP), and the browser's walk through a federated sign-in."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
from starlette.testclient import TestClient

from tessera.issue.signin.federation import Federation, Upstream, upstream_from_mapping
from tessera.issue.signin.federation.http import UpstreamHTTP
from tessera.testing.idp import ProviderHarness, query_of
from tessera.testing.upstream import FakeUpstream

SECRET = "upstream-secret-" + "s" * 32
ENV = {"CORP_SECRET": SECRET, "OTHER_SECRET": SECRET}


def configure(
    idp: ProviderHarness,
    *entries: dict[str, Any],
    environ: dict[str, str] | None = None,
    http: UpstreamHTTP | None = None,
) -> tuple[Upstream, ...]:
    """Give the provider these ``[[upstreams]]`` entries (checked as tessera.toml's would be).

    ``http`` replaces the client that talks to the upstreams.
    """
    upstreams = tuple(upstream_from_mapping(e) for e in entries)
    provider = idp.provider
    provider.federation = Federation(
        upstreams,
        issuer=idp.issuer,
        store=idp.store,
        key=idp.master.derive("federation"),
        signing_key=provider.keys.signing_key,
        clock=idp.clock,
        environ={**ENV, **(environ or {})},
        master_key=idp.master,
        http=http,
    )
    return upstreams


def oidc_entry(fake: FakeUpstream, upstream_id: str = "corp", **extra: Any) -> dict[str, Any]:
    """An upstream entry for ``fake`` found by discovery."""
    return {
        "id": upstream_id,
        "name": f"{upstream_id.title()} SSO",
        "issuer": fake.issuer.issuer,
        "client_id": "tessera",
        "client_secret_env": f"{upstream_id.upper()}_SECRET",
        **extra,
    }


def register(
    fake: FakeUpstream, idp: ProviderHarness, upstream_id: str = "corp", secret: Any = SECRET
) -> None:
    """Register Tessera at ``fake`` with the one callback of ``upstream_id``."""
    fake.register("tessera", secret, f"{idp.issuer}/upstream/{upstream_id}/callback")


@dataclass
class Walk:
    """One browser's way through a federated sign-in, step by step."""

    idp: ProviderHarness
    browser: TestClient
    params: dict[str, str] = field(default_factory=dict)
    request_id: str = ""
    verifier: str = ""

    def to_upstream(self, upstream_id: str = "corp") -> str:
        """Start at the application and press "Sign in with ...": the upstream's authorization URL."""
        self.params = self.idp.authorize_params()
        self.verifier = self.idp.last_verifier
        response = self.idp.authorize(self.params, self.browser)
        assert response.status_code == 303, response.text
        signin = self.browser.get(response.headers["location"])
        assert signin.status_code == 200
        self.request_id = query_of(response.headers["location"])["request"]
        links = re.findall(r'href="([^"]*/upstream/[^"]*)"', signin.text)
        wanted = [link.replace("&amp;", "&") for link in links if f"/upstream/{upstream_id}/start" in link]
        assert wanted, signin.text
        start = self.browser.get(wanted[0])
        assert start.status_code == 303, start.text
        return str(start.headers["location"])

    def at_upstream(self, location: str) -> str:
        """The upstream's answer to the authorization request: the callback URL it redirects to."""
        answer = httpx.get(location, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        return str(answer.headers["location"])

    def callback(self, url: str) -> httpx.Response:
        """Bring the upstream's answer back to Tessera."""
        parts = urlsplit(url)
        response: httpx.Response = self.browser.get(f"{parts.path}?{parts.query}")
        return response

    def finish(self, response: httpx.Response) -> dict[str, Any]:
        """After a successful callback: resume the request and redeem the code; the token response."""
        assert response.status_code == 200, response.text
        found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', response.text)
        assert found, response.text
        resumed = self.browser.get(html.unescape(found.group(1)))
        assert resumed.status_code == 302, resumed.text
        answer = query_of(resumed.headers["location"])
        tokens = self.idp.exchange(answer["code"], self.verifier)
        assert tokens.status_code == 200, tokens.text
        body: dict[str, Any] = tokens.json()
        return body

    def sign_in(self, upstream_id: str = "corp") -> dict[str, Any]:
        """The whole walk; the token response."""
        return self.sign_in_from(self.to_upstream(upstream_id))

    def sign_in_from(self, location: str) -> dict[str, Any]:
        """The walk from the upstream's authorization URL on; the token response."""
        return self.finish(self.callback(self.at_upstream(location)))


def refused(response: httpx.Response, words: str) -> None:
    """The callback ended on the clear error page (never a 500) with a way back, and no session."""
    assert response.status_code == 400, (response.status_code, response.text)
    assert words in response.text, response.text
    assert "Back to sign-in" in response.text
    assert "tessera-session=" not in response.headers.get("set-cookie", "")
