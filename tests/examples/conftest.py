"""Fixtures for the example tests: one local issuer on 127.0.0.1, its tokens, and example servers.

Servers (``tessera gateway``, uvicorn, functions-framework) are started as real processes on
127.0.0.1 with the issuer's settings in their environment, and killed after the test.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tessera.testing import LocalIssuer

from ..gateway.http_client import Reply

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AUDIENCE = "orders-api"
READY_TIMEOUT_SECONDS = 30.0


@pytest.fixture(scope="session")
def issuer() -> Iterator[LocalIssuer]:
    """One RS256 issuer serving discovery and its JWKS on 127.0.0.1 for every example test."""
    with LocalIssuer() as running:
        yield running


@pytest.fixture(scope="session")
def tokens(issuer: LocalIssuer) -> dict[str, str | None]:
    """A genuine token and the four bad cases every example must reject."""
    now = int(time.time())
    return {
        "good": issuer.mint(aud=AUDIENCE, scope="orders:read"),
        "missing": None,
        "expired": issuer.mint(aud=AUDIENCE, scope="orders:read", iat=now - 7200, exp=now - 3600),
        "wrong_audience": issuer.mint(aud="billing-api", scope="orders:read"),
        "insufficient_scope": issuer.mint(aud=AUDIENCE, scope="profile"),
    }


@pytest.fixture(scope="session")
def example_env(issuer: LocalIssuer) -> dict[str, str]:
    """The environment the examples read: issuer and audience (keys by discovery over HTTP)."""
    return {"TESSERA_ISSUER": issuer.issuer, "TESSERA_AUDIENCE": AUDIENCE}


@pytest.fixture(scope="session")
def bundled_jwks_env(issuer: LocalIssuer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The same, with the JWKS bundled as a file (``tessera jwks fetch`` at deploy time)."""
    jwks = tmp_path_factory.mktemp("bundle") / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    return {"TESSERA_ISSUER": issuer.issuer, "TESSERA_AUDIENCE": AUDIENCE, "TESSERA_JWKS_FILE": str(jwks)}


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # waiting for a real process to bind, not moving a clock
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port}")


Spawn = Callable[..., str]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start server processes for one test (see :func:`_spawner`)."""
    yield from _spawner()


@pytest.fixture(scope="module")
def module_spawn() -> Iterator[Spawn]:
    """Start server processes shared by one test module (see :func:`_spawner`)."""
    yield from _spawner()


def _spawner() -> Iterator[Spawn]:
    """Start a server process; returns its base URL. Every process is killed after the test.

    ``port=None`` means the command prints its URL on its first line (``tessera gateway --port 0``).
    """
    processes: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], *, env: Mapping[str, str], cwd: Path, port: int | None = None) -> str:
        full_env = {**_base_env(), **env}
        if port is None:
            process = subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=subprocess.PIPE)
            processes.append(process)
            assert process.stdout is not None
            banner = process.stdout.readline().decode()
            found = re.search(r"http://127\.0\.0\.1:\d+", banner)
            if found is None:
                raise RuntimeError(f"no URL in the first line of output: {banner!r}")
            return found.group(0)
        process = subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=subprocess.DEVNULL)
        processes.append(process)
        _wait_for_port(port, process)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.terminate()  # lets tessera gateway stop its runtime client processes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}


def gateway_argv(routes: Path, *extra: str) -> list[str]:
    """``tessera gateway`` on a free port, printing its URL first."""
    return [
        sys.executable,
        "-m",
        "tessera.cli",
        "gateway",
        "--routes",
        str(routes),
        "--port",
        "0",
        "--quiet",
        *extra,
    ]


# name of the token -> (status, RFC 6750 error code in WWW-Authenticate, or None for no error)
RFC6750_CASES: dict[str, tuple[int, str | None]] = {
    "good": (200, None),
    "missing": (401, None),
    "expired": (401, "invalid_token"),
    "wrong_audience": (401, "invalid_token"),
    "insufficient_scope": (403, "insufficient_scope"),
}


def assert_rfc6750(case: str, reply: Reply, *, required_scope: str = "orders:read") -> None:
    """Check one reply against what RFC 6750 asks for the token ``case``."""
    status, error = RFC6750_CASES[case]
    assert reply.status == status, (case, reply.status, reply.body[:200])
    challenge = reply.header("WWW-Authenticate")
    if status == 200:
        assert challenge is None
        return
    assert challenge is not None and challenge.startswith("Bearer realm=")
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge
    if error == "insufficient_scope":
        assert f'scope="{required_scope}"' in challenge
    assert reply.header("Cache-Control") == "no-store"
