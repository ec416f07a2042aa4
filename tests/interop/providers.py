"""OpenID providers under test, as black boxes: how to start one and how to sign a user in.

An :class:`OP` is everything an interop test knows about a provider: its issuer URL, a public
client (authorization code + PKCE, refresh tokens), a confidential client (client_credentials),
the resource/audience of its access tokens, and a sign-in driver that turns an authorization URL
into the callback URL a browser would land on. Tests never look inside the provider.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_SCRIPTS = Path(__file__).resolve().parent / "node"
NODE_MODULES = REPO / "node" / "node_modules"

SignIn = Callable[[str], str]

# One TLS context for every client: building one per request dominates a loopback round trip.
_TLS = ssl.create_default_context()


def browser() -> httpx.Client:
    """A fresh HTTP client with its own cookie jar, like a new browser profile."""
    return httpx.Client(timeout=10, verify=_TLS)


API = browser()
"""The shared client for cookie-less endpoint calls (discovery, JWKS, token, userinfo)."""


@dataclass(frozen=True)
class OP:
    """A running OpenID provider and the clients registered with it."""

    name: str
    issuer: str
    public_client_id: str
    redirect_uri: str
    service_client_id: str
    service_client_secret: str = field(repr=False)
    audience: str
    sign_in: SignIn = field(repr=False)
    resource: str | None = None
    authorization_params: dict[str, str] = field(default_factory=dict)
    issues_at_hash: bool = True
    scope: str = "openid offline_access demo:read"
    service_scope: str = "demo:read"
    _discovered: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def discovery(self) -> dict[str, Any]:
        """The provider's OpenID discovery document (fetched once)."""
        if not self._discovered:
            response = API.get(f"{self.issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            document = response.json()
            assert isinstance(document, dict)
            self._discovered.update(document)
        return dict(self._discovered)

    def jwks(self) -> dict[str, Any]:
        """The provider's published JWKS."""
        response = API.get(self.discovery()["jwks_uri"])
        response.raise_for_status()
        document = response.json()
        assert isinstance(document, dict)
        return document

    def resource_params(self) -> dict[str, str]:
        """The RFC 8707 ``resource`` parameter, for providers that need one to mint JWT access tokens."""
        return {"resource": self.resource} if self.resource else {}

    def client_credentials_token(self) -> str:
        """A fresh access token for the confidential client (client_secret_basic)."""
        response = API.post(
            self.discovery()["token_endpoint"],
            data={"grant_type": "client_credentials", "scope": self.service_scope, **self.resource_params()},
            auth=(self.service_client_id, self.service_client_secret),
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        assert isinstance(token, str)
        return token


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_node() -> None:
    """Skip when the npm peers are not installed, except in CI, where that is a failure."""
    missing = [
        what for what, ok in (("node", _has_node()), ("node/node_modules", NODE_MODULES.is_dir())) if not ok
    ]
    if not missing:
        return
    message = f"{' and '.join(missing)} missing: run `npm ci --prefix node`"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run the Node interop tests)")
    pytest.skip(message)


def _has_node() -> bool:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


@contextmanager
def node_server(
    script: str | Path, *args: str, env: dict[str, str], ready_timeout_seconds: float = 30
) -> Iterator[dict[str, Any]]:
    """Run ``node script args`` until the block ends; yields the JSON line it prints once listening.

    ``script`` is relative to ``tests/interop/node/`` unless it is an absolute path.
    """
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            ["node", str(NODE_SCRIPTS / script), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, **env},
        )
        try:
            yield _first_json_line(process, ready_timeout_seconds, stderr)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            assert process.stdout is not None
            process.stdout.close()


def _first_json_line(process: subprocess.Popen[Any], timeout_seconds: float, stderr: Any) -> dict[str, Any]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_seconds
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = process.stdout.readline()
                if line:
                    ready = json.loads(line)
                    assert isinstance(ready, dict)
                    return ready
            if process.poll() is not None:
                break
    stderr.seek(0)
    raise RuntimeError(f"node script printed no JSON line: {stderr.read().decode(errors='replace')[-2000:]}")


class _Forms(HTMLParser):
    """Collects each <form>'s action and its hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("type") == "hidden" and "name" in values:
            self.forms[-1][1][values["name"]] = values.get("value", "")


def oidc_provider_sign_in(authorization_url: str, *, redirect_uri: str, login: str = "alice") -> str:
    """Sign ``login`` in through oidc-provider's devInteractions login and consent forms.

    Follows redirects by hand until one leaves for ``redirect_uri`` and returns that URL.
    """
    with browser() as session:
        response = session.get(authorization_url)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(redirect_uri):
                    return location
                response = session.get(location)
                continue
            parser = _Forms()
            parser.feed(response.text)
            if response.status_code != 200 or not parser.forms:
                raise AssertionError(f"sign-in stopped at HTTP {response.status_code}: {response.text[:300]}")
            action, hidden = parser.forms[0]
            form = dict(hidden)
            if form.get("prompt") == "login":
                form.update(login=login, password="any")
            response = session.post(urljoin(str(response.url), action), data=form)
    raise AssertionError("sign-in did not reach the redirect URI")


@contextmanager
def reference_op() -> Iterator[OP]:
    """panva's oidc-provider (dev mode) configured like Tessera's dev clients, on a free port."""
    require_node()
    port, callback_port = free_port(), free_port()
    secret = secrets.token_urlsafe(32)
    redirect_uri = f"http://127.0.0.1:{callback_port}/callback"
    with node_server(
        "reference_op.mjs", str(port), str(callback_port), env={"REFERENCE_OP_SERVICE_SECRET": secret}
    ) as ready:
        yield OP(
            name="oidc-provider",
            issuer=ready["issuer"],
            public_client_id="dev-spa",
            redirect_uri=redirect_uri,
            service_client_id="dev-service",
            service_client_secret=secret,
            audience=ready["resource"],
            resource=ready["resource"],
            # oidc-provider drops offline_access unless consent is prompted for, and leaves the
            # optional at_hash out of ID tokens from the token endpoint.
            authorization_params={"prompt": "consent"},
            issues_at_hash=False,
            sign_in=lambda url: oidc_provider_sign_in(url, redirect_uri=redirect_uri),
        )


def run_rp_flow(op: OP, timeout_seconds: float = 60) -> dict[str, Any]:
    """Run the openid-client relying party against ``op``; ``op.sign_in`` plays the browser."""
    settings = {
        "issuer": op.issuer,
        "client_id": op.public_client_id,
        "redirect_uri": op.redirect_uri,
        "scope": op.scope,
        "resource": op.resource,
        "authorization_params": op.authorization_params,
    }
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            ["node", str(NODE_SCRIPTS / "rp_flow.mjs"), json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            started = _first_json_line(process, timeout_seconds, stderr)
            callback_url = op.sign_in(started["authorization_url"])
            stdout, _ = process.communicate(callback_url + "\n", timeout=timeout_seconds)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        stderr.seek(0)
        assert process.returncode == 0, stderr.read().decode(errors="replace")[-2000:]
    result = json.loads(stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def run_node_json(script: str, *args: str, stdin: str = "", timeout_seconds: float = 60) -> Any:
    """Run a Node script to completion and parse the last line of its stdout as JSON."""
    result = subprocess.run(
        ["node", str(NODE_SCRIPTS / script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
