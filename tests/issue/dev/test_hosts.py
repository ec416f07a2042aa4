"""``tessera dev`` answers only requests addressed to it (DNS rebinding), with one or more workers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tessera.testing.devserver import DevServer

ROUTES = ("/dev/outbox", "/jwks", "/.well-known/openid-configuration", "/signin", "/userinfo", "/nowhere")


@pytest.fixture(scope="module", params=[1, 2], ids=["one-worker", "two-workers"])
def server(request: pytest.FixtureRequest) -> Iterator[DevServer]:
    with DevServer(workers=request.param) as running:
        yield running


def _raw(server: DevServer, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return data


def test_a_rebound_host_is_refused_on_every_route(server: DevServer) -> None:
    for host in ("evil.com", f"evil.com:{server.port}", "127.0.0.1", f"127.0.0.1:{server.port + 1}"):
        for path in ROUTES:
            response = httpx.get(f"{server.issuer}{path}", headers={"Host": host})
            assert (response.status_code, response.content) == (400, b""), (host, path)
    token = httpx.post(
        f"{server.issuer}/token", data={"grant_type": "client_credentials"}, headers={"Host": "evil.com"}
    )
    assert (token.status_code, token.content) == (400, b"")


def test_the_served_address_is_answered_under_each_loopback_name(server: DevServer) -> None:
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}"):
        outbox = httpx.get(f"{server.issuer}/dev/outbox", headers={"Host": host})
        assert outbox.status_code == 200, host
        assert isinstance(outbox.json(), list)
    by_name = httpx.get(f"http://localhost:{server.port}/jwks")
    assert by_name.status_code == 200 and by_name.json()["keys"]


def test_a_request_without_one_host_is_refused(server: DevServer) -> None:
    assert _raw(server, b"GET /dev/outbox HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    two = f"GET /dev/outbox HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nHost: evil.com\r\n\r\n"
    assert _raw(server, two.encode()).startswith(b"HTTP/1.1 400 ")
    one = f"GET /dev/outbox HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n"
    assert _raw(server, one.encode()).startswith(b"HTTP/1.1 200 ")
