"""The token-endpoint load generator: HTTP framing and the refresh-chain rules, against a local server."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs

import pytest


def _load_loadgen() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "loadgen.py"
    spec = importlib.util.spec_from_file_location("bench_loadgen", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


loadgen = _load_loadgen()

Answer = Callable[[bytes], tuple[int, bytes]]


async def _serve(answer: Answer, *, chunked: bool = False) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode().split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":")[1])
                status, body = answer(await reader.readexactly(length))
                if chunked:
                    half = len(body) // 2
                    framed = b"".join(
                        f"{len(part):x}\r\n".encode() + part + b"\r\n"
                        for part in (body[:half], body[half:])
                        if part
                    )
                    writer.write(
                        f"HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                        + framed
                        + b"0\r\n\r\n"
                    )
                else:
                    writer.write(
                        f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/token"


class RotatingEndpoint:
    """A refresh endpoint that rotates correctly, or, with ``replay_after``, hands a used token back."""

    def __init__(self, replay_after: int | None = None) -> None:
        self.issued: dict[str, str] = {}
        self.used: set[str] = set()
        self.answers = 0
        self.replay_after = replay_after
        self.reused_presented = 0

    def seed(self) -> str:
        token = secrets.token_urlsafe(8)
        self.issued[token] = "valid"
        return token

    def __call__(self, body: bytes) -> tuple[int, bytes]:
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        assert form["grant_type"] == "refresh_token"
        presented = form["refresh_token"]
        if presented in self.used:
            self.reused_presented += 1
            return 400, b'{"error":"invalid_grant"}'
        self.used.add(presented)
        self.answers += 1
        successor = (
            presented if self.replay_after is not None and self.answers > self.replay_after else self.seed()
        )
        return 200, json.dumps({"access_token": "at", "refresh_token": successor}).encode()


@pytest.fixture
async def rotating() -> AsyncIterator[tuple[RotatingEndpoint, str]]:
    endpoint = RotatingEndpoint()
    server, url = await _serve(endpoint)
    async with server:
        yield endpoint, url


async def test_refresh_chains_follow_rotation_without_errors(rotating: tuple[RotatingEndpoint, str]) -> None:
    endpoint, url = rotating
    seeds = [endpoint.seed() for _ in range(4)]
    job = {
        "kind": "refresh",
        "url": url,
        "refresh_tokens": seeds,
        "clients": 4,
        "seconds": 60,
        "max_requests": 200,
    }
    job["warmup_seconds"] = 0

    result = await loadgen.run_job(job)

    assert result["errors"] == 0
    assert result["requests"] == 200
    assert endpoint.reused_presented == 0
    assert len(result["refresh_tokens"]) == 4
    assert not set(result["refresh_tokens"]) & endpoint.used
    assert all(endpoint.issued.get(token) == "valid" for token in result["refresh_tokens"])


async def test_refresh_chain_stops_when_a_token_comes_back() -> None:
    endpoint = RotatingEndpoint(replay_after=3)
    server, url = await _serve(endpoint)
    async with server:
        job = {
            "kind": "refresh",
            "url": url,
            "refresh_tokens": [endpoint.seed()],
            "clients": 1,
            "seconds": 60,
        }
        job.update(max_requests=50, warmup_seconds=0)

        result = await loadgen.run_job(job)

    assert result["errors"] == 1
    assert result["error_samples"] == ["a refresh token came back twice"]
    assert result["requests"] == 4
    assert result["refresh_tokens"] == [None]
    assert endpoint.reused_presented == 0


async def test_refresh_chain_stops_on_an_error_answer() -> None:
    server, url = await _serve(lambda body: (400, b'{"error":"invalid_grant"}'))
    async with server:
        job = {"kind": "refresh", "url": url, "refresh_tokens": ["rt"], "clients": 1, "seconds": 60}
        job.update(max_requests=50, warmup_seconds=0)
        result = await loadgen.run_job(job)
    assert result["errors"] == 1
    assert result["requests"] == 1
    assert "HTTP 400" in result["error_samples"][0]


@pytest.mark.parametrize("chunked", [False, True])
async def test_fixed_job_reads_both_framings_and_counts_wrong_status(chunked: bool) -> None:
    answers = iter([(200, b'{"ok":1}')] * 5 + [(503, b"busy")] * 100)
    server, url = await _serve(lambda body: next(answers), chunked=chunked)
    async with server:
        job = {"kind": "fixed", "url": url, "method": "POST", "body": "x=1", "clients": 1, "seconds": 60}
        job.update(max_requests=8, warmup_seconds=0)
        result = await loadgen.run_job(job)
    assert result["requests"] == 8
    assert result["errors"] == 3
    assert result["error_samples"][0].startswith("HTTP 503")
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


async def test_refuses_a_non_loopback_target() -> None:
    job = {"kind": "fixed", "url": "http://example.com/token", "method": "GET", "clients": 1, "seconds": 1}
    with pytest.raises(SystemExit):
        await loadgen.run_job(job)


def test_basic_auth_form_encodes_before_base64() -> None:
    assert loadgen.basic_auth("dev-service", "s3cret") == "Basic ZGV2LXNlcnZpY2U6czNjcmV0"
    assert loadgen.basic_auth("a:b", "p w") == "Basic YSUzQWI6cCt3"


async def test_a_chain_broken_during_warm_up_is_still_an_error() -> None:
    server, url = await _serve(lambda body: (400, b'{"error":"invalid_grant"}'))
    async with server:
        job = {"kind": "refresh", "url": url, "refresh_tokens": ["rt"], "clients": 1, "seconds": 0.05}
        job.update(warmup_seconds=30)
        result = await loadgen.run_job(job)
    assert result["requests"] == 0
    assert result["errors"] == 1
