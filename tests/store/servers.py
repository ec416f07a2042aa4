"""Real servers for the store tests: a throwaway PostgreSQL cluster, moto's DynamoDB, redis-server.

Each is started on a free loopback port, once per test session, and stopped by its process id.
A missing server binary skips the tests that need it, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["free_port", "missing", "moto_server", "postgres_server", "redis_server"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def missing(what: str) -> None:
    """Skip for want of ``what``; in CI, fail instead: CI must install every server."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is not installed; CI must install it (.ci/run)")
    pytest.skip(f"{what} is not installed")


def _wait_for(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> None:
    process.send_signal(how)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _postgres_user() -> str | None:
    """``postgres`` when we are root (PostgreSQL refuses to run as root), else None (ourselves).

    Started with ``subprocess``'s ``user=``, the server stays our own child: our signals reach it.
    """
    return "postgres" if os.geteuid() == 0 else None


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (``initdb --auth=trust``); yields the URL of its ``postgres`` db."""
    if not (PG_BIN / "initdb").exists():
        missing("PostgreSQL 15 (apt-get install postgresql)")
    data = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    owner = _postgres_user()
    subprocess.run([*initdb, "--no-locale"], check=True, capture_output=True, user=owner, group=owner)
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(data),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "300",
    }
    options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    process = subprocess.Popen(
        [str(PG_BIN / "postgres"), "-D", str(data), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=data,
        user=owner,
        group=owner,
    )
    try:
        _wait_for(lambda: _pg_ready(port), process, "postgres")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _stop(process, signal.SIGINT)  # PostgreSQL's fast shutdown: it does not wait for clients
        shutil.rmtree(data, ignore_errors=True)


def _pg_ready(port: int) -> bool:
    import psycopg

    try:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=1).close()
        return True
    except psycopg.OperationalError:
        return False


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server (DynamoDB over HTTP), one request at a time; yields its endpoint URL.

    See :mod:`tests.store.moto_serialised` for why the requests are serialised.
    """
    try:
        import moto.server  # noqa: F401
    except ImportError:
        missing("moto[server] (the dev extra)")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.store.moto_serialised", "127.0.0.1", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _accepts(port), process, "moto server")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server (apt-get install redis-server)")
        raise AssertionError("unreachable")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _accepts(port), process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)
