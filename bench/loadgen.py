#!/usr/bin/env python3
"""A closed-loop HTTP/1.1 load generator on raw keep-alive asyncio connections, run as its own process.

Reads one JSON job from stdin, prints one JSON result on stdout. Each virtual client owns one
connection and sends its next request as soon as the previous answer is read. Three kinds of job:

- ``fixed``: the same request every time (client_credentials, or a trivial endpoint);
- ``refresh``: each virtual client follows its own refresh-token chain; every answer must carry
  a refresh token never seen before in the run, which the client presents next. A failed or
  reused link is an error and ends that client's chain;
- ``signin``: each virtual client signs in one user after another with an emailed code, as a
  browser does (:mod:`signin_load`).

Loopback only; bounded by ``seconds`` and ``max_requests``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Stats:
    """Latencies measured after the warm-up; errors counted from the first request."""

    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    sent: int = 0

    def error(self, why: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(why)


def http_request(method: str, host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The bytes of one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_message(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]], bytes, bool]:
    """One HTTP/1.1 response: status, headers (lower-case names, in order), body, keep-alive."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    pairs = []
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            pairs.append((name.strip().lower(), value.strip()))
    headers = dict(pairs)
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    else:
        body = await reader.read()
        return status, pairs, body, False
    return status, pairs, body, headers.get("connection", "").lower() != "close"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    status, _, body, keep_alive = await read_message(reader)
    return status, body, keep_alive


class FixedJob:
    """The same request, over and over; success is the expected status."""

    def __init__(self, job: dict[str, Any], host: str, path: str) -> None:
        self._bytes = http_request(
            job["method"], host, path, job.get("headers", {}), job.get("body", "").encode()
        )
        self._expect = job.get("expect_status", 200)

    def next_request(self, client: int) -> bytes | None:
        return self._bytes

    def check(self, client: int, status: int, body: bytes) -> str | None:
        return None if status == self._expect else f"HTTP {status}: {body[:200]!r}"


class RefreshJob:
    """One rotating refresh-token chain per virtual client; no token may ever come back."""

    def __init__(self, job: dict[str, Any], host: str, path: str) -> None:
        self._host, self._path = host, path
        self._headers = {"Content-Type": "application/x-www-form-urlencoded", **job.get("headers", {})}
        self._form: dict[str, str] = job.get("form", {})
        self.current: list[str | None] = list(job["refresh_tokens"])
        self._seen: set[str] = set(token for token in self.current if token)

    def next_request(self, client: int) -> bytes | None:
        token = self.current[client]
        if token is None:
            return None
        body = urlencode({"grant_type": "refresh_token", "refresh_token": token, **self._form}).encode()
        return http_request("POST", self._host, self._path, self._headers, body)

    def check(self, client: int, status: int, body: bytes) -> str | None:
        failure = None
        successor = None
        if status != 200:
            failure = f"HTTP {status}: {body[:200]!r}"
        else:
            try:
                successor = json.loads(body).get("refresh_token")
            except ValueError:
                failure = "answer is not JSON"
            if failure is None and not isinstance(successor, str):
                failure = "no refresh_token in the answer"
            elif failure is None and successor in self._seen:
                failure = "a refresh token came back twice"
        if failure is not None:
            self.current[client] = None
            return failure
        assert isinstance(successor, str)
        self._seen.add(successor)
        self.current[client] = successor
        return None


@dataclass
class Run:
    """One job in progress, shared by its virtual clients."""

    job: FixedJob | RefreshJob
    host: str
    port: int
    start_recording: float
    deadline: float
    budget: int
    stats: Stats = field(default_factory=Stats)


async def _client(index: int, run: Run) -> None:
    reader, writer = await asyncio.open_connection(run.host, run.port)
    try:
        while (now := time.perf_counter()) < run.deadline:
            recorded = now >= run.start_recording
            if recorded:
                if run.budget <= 0:
                    return
                run.budget -= 1
            request = run.job.next_request(index)
            if request is None:
                return
            began = time.perf_counter_ns()
            writer.write(request)
            status, body, keep_alive = await _read_response(reader)
            elapsed = time.perf_counter_ns() - began
            failure = run.job.check(index, status, body)
            if recorded:
                run.stats.latencies_ns.append(elapsed)
            if failure is not None:
                run.stats.error(failure)
            if not keep_alive:
                writer.close()
                reader, writer = await asyncio.open_connection(run.host, run.port)
    finally:
        writer.close()


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The nearest-rank percentile of nanosecond values, in milliseconds (NaN for none)."""
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank] / 1e6


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``job`` and summarise it: requests/s, latency percentiles in ms, errors."""
    if job["kind"] == "signin":
        from signin_load import run_signin_job

        return await run_signin_job(job)
    url = urlsplit(job["url"])
    host, port = url.hostname or "", url.port or 80
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load a non-loopback host: {host}")
    host_header = f"{host}:{port}"
    path = url.path or "/"
    load: FixedJob | RefreshJob = (
        RefreshJob(job, host_header, path) if job["kind"] == "refresh" else FixedJob(job, host_header, path)
    )
    clients = int(job["clients"])
    start_recording = time.perf_counter() + float(job.get("warmup_seconds", 0.5))
    run = Run(
        load,
        host,
        port,
        start_recording,
        deadline=start_recording + float(job["seconds"]),
        budget=int(job.get("max_requests", 100_000)),
    )
    await asyncio.gather(*(_client(i, run) for i in range(clients)))
    measured = time.perf_counter() - start_recording
    stats = run.stats
    latencies = sorted(stats.latencies_ns)
    result: dict[str, Any] = {
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(measured, 3),
        "rps": len(latencies) / measured if measured > 0 else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] / 1e6 if latencies else float("nan"),
        "errors": stats.errors,
        "error_samples": stats.error_samples,
    }
    if isinstance(load, RefreshJob):
        result["refresh_tokens"] = load.current
    return result


def basic_auth(client_id: str, secret: str) -> str:
    """An ``Authorization: Basic`` value (RFC 6749 §2.3.1 form-encodes both parts first)."""
    pair = f"{urlencode({'': client_id})[1:]}:{urlencode({'': secret})[1:]}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def main() -> None:
    job = json.load(sys.stdin)
    print(json.dumps(asyncio.run(run_job(job))))


if __name__ == "__main__":
    main()
