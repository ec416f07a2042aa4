"""Bounded request reads under uvicorn: slow headers and bodies are cut off, honest requests are not."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from tessera.issue.hosting.serving import BoundedHttpProtocol, bounded_protocol, uvicorn_options
from tessera.testing.devserver import free_port
from tessera.testing.idp import SVC_SECRET, ProviderHarness

BOUND = 1.0  # seconds, for headers and for the body


async def echo_length(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the length of the request body it read."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    headers = [(b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _serve(app: ASGIApp) -> Iterator[int]:
    protocol = bounded_protocol(header_seconds=BOUND, body_seconds=BOUND)
    chosen = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=chosen, log_level="warning", **uvicorn_options(protocol)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield chosen
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    yield from _serve(echo_length)


@pytest.fixture(scope="module")
def provider_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    idp = ProviderHarness(tmp_path_factory.mktemp("served"), issuer="http://127.0.0.1:8000")
    yield from _serve(idp.app)
    idp.store.close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=BOUND * 4)
    return sock


def _closed_after(sock: socket.socket, trickle: list[bytes], every: float) -> float:
    """Send ``trickle`` one piece every ``every`` seconds until the server closes; the time it took."""
    started = time.monotonic()
    for piece in trickle:
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
        sock.settimeout(every)
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return float("inf")


def _response(sock: socket.socket) -> bytes:
    sock.settimeout(BOUND * 4)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = int(next(line for line in lines if line.lower().startswith(b"content-length")).split(b":")[1])
    while len(body) < length:
        body += sock.recv(4096)
    return lines[0] + b" " + body


def test_headers_sent_one_line_at_a_time_are_cut_off_at_the_bound(port: int) -> None:
    with _connect(port) as sock:
        lines = [b"GET / HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n"] + [b"X-Slow: %d\r\n" % i for i in range(40)]
        elapsed = _closed_after(sock, lines, 0.1)
    assert BOUND * 0.8 <= elapsed < BOUND + 1.0


def test_a_silent_connection_is_closed_at_the_bound(port: int) -> None:
    with _connect(port) as sock:
        started = time.monotonic()
        assert sock.recv(4096) == b""
        assert time.monotonic() - started < BOUND + 1.0


def test_a_body_trickled_past_the_bound_is_cut_off(port: int) -> None:
    with _connect(port) as sock:
        head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
        elapsed = _closed_after(sock, [head] + [b"x"] * 100, 0.1)
    assert BOUND * 0.8 <= elapsed < BOUND + 1.0


def test_blank_lines_between_keep_alive_requests_do_not_hold_the_connection(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _response(sock) == b"HTTP/1.1 200 OK 0"
        elapsed = _closed_after(sock, [b"\r\n"] * 40, 0.1)
    assert elapsed < BOUND + 1.0


def test_complete_requests_are_served_even_slowly_and_the_connection_kept(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _response(sock) == b"HTTP/1.1 200 OK 0"
        # Idle for longer than the bound (within keep-alive), then a slow but timely request.
        time.sleep(BOUND * 1.5)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(BOUND * 0.4)
        sock.sendall(b"Content-Length: 8\r\n\r\n")
        for _ in range(4):
            time.sleep(BOUND * 0.15)
            sock.sendall(b"ab")
        assert _response(sock) == b"HTTP/1.1 200 OK 8"


def test_tessera_dev_and_the_documented_options_use_the_bounded_protocol() -> None:
    options = uvicorn_options()
    assert options["http"] is BoundedHttpProtocol
    assert options["timeout_keep_alive"] == 5
    assert BoundedHttpProtocol.header_timeout_seconds == 10
    config = uvicorn.Config(echo_length, http="tessera.issue.hosting.serving:BoundedHttpProtocol")
    config.load()
    assert config.http_protocol_class is BoundedHttpProtocol
    with pytest.raises(ValueError, match="header_seconds"):
        bounded_protocol(header_seconds=0, body_seconds=1)


def test_the_provider_lets_a_cut_off_body_go_quietly_and_serves_a_slow_complete_one(
    provider_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    )
    with caplog.at_level(logging.ERROR), _connect(provider_port) as sock:
        elapsed = _closed_after(sock, [head] + [b"a"] * 100, 0.1)
    assert elapsed < BOUND + 1.0
    time.sleep(0.2)
    assert not [r for r in caplog.records if r.name.startswith(("tessera", "uvicorn"))]
    body = b"grant_type=client_credentials&client_id=svc&client_secret=" + SVC_SECRET.encode()
    with _connect(provider_port) as sock:
        sock.sendall(head.replace(b"100", b"%d" % len(body)))
        for start in range(0, len(body), len(body) // 3 + 1):
            time.sleep(BOUND * 0.2)
            sock.sendall(body[start : start + len(body) // 3 + 1])
        status = _response(sock).split(b" ")[1]
    assert status == b"200"
