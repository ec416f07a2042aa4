"""The email-code sign-in under load, as a browser does it: a job kind of ``loadgen.py``.

Each virtual client signs in one user after another. Every sign-in is a new browser: its own
keep-alive connection from its own source address in 127.0.0.0/8, so the provider's per-address
limits see one sign-in per address, as they would with real users, and are not tripped (nor
loosened).
The steps, each timed by name:

1. ``authorize``: GET /authorize (code flow with PKCE), redirected to the sign-in page;
2. ``signin_page``: GET /signin (the form and its CSRF cookie);
3. ``start``: POST /signin with the address; the code mail is queued;
4. the code is read from the dev outbox's SQLite file (``outbox.db`` in the data directory),
   waiting for the provider's mail sender (timed as ``mail``, not a request);
5. ``code_page``: GET /signin/code; 6. ``code``: POST /signin/code, which starts the session;
7. ``continue``: GET /authorize/continue, redirected to the client with the authorization code;
8. ``token``: POST /token (authorization_code, PKCE verifier).

A sign-in started before the deadline is finished after it, so none is left half done. Every
sign-in's artefacts (its cookies when the code was entered, the code, the authorization code,
the refresh token) are returned, for the check that nothing was lost or double-spent
(``signin_ledger.py``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import random
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from loadgen import LOOPBACK, http_request, percentile, read_message

STEPS = ("authorize", "signin_page", "start", "code_page", "code", "continue", "token")
MAIL_WAIT_SECONDS = 30.0
IDLE_RECONNECT_SECONDS = 2.0
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request|then)" value="([^"]*)">')
_CODE = re.compile(r"sign-in code is ([0-9]{12}|[0-9]{6})\b")


class SignInError(Exception):
    """A step answered what a browser would not expect; the sign-in is an error."""


def source_address(index: int) -> str:
    """The ``index``-th source address in 127.0.0.0/8, each octet in 1-254 (never 127.0.0.1)."""
    a, rest = divmod(index, 254 * 254)
    b, c = divmod(rest, 254)
    if a >= 254:
        raise ValueError("more than 254**3 source addresses")
    return f"127.{a + 1}.{b + 1}.{c + 1}"


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Outbox:
    """The dev outbox's SQLite file, read-only: the newest code mail to an address."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def last_id(self) -> int:
        """The highest mail id so far (ids only grow: the count of mails ever kept)."""
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()
        return int(row[0])

    def code_after(self, email: str, after: int) -> tuple[int, str] | None:
        """(mail id, code) of the newest mail to ``email`` with an id above ``after``, or None."""
        row = self._db.execute(
            "SELECT id, text FROM outbox WHERE recipient = ? AND id > ? ORDER BY id DESC LIMIT 1",
            (email, after),
        ).fetchone()
        if row is None:
            return None
        match = _CODE.search(row[1])
        if match is None:
            raise SignInError("the mail holds no sign-in code")
        return int(row[0]), match.group(1)


class Browser:
    """One browser: a connection from its own source address, a cookie jar, and just enough HTTP/1.1.

    A connection left idle longer than ``IDLE_RECONNECT_SECONDS`` (while the user reads the
    mail, say) is replaced before the next request, as a browser does when the server closes
    idle keep-alive connections (uvicorn after 5 s).
    """

    def __init__(self, host: str, port: int, source: str) -> None:
        self._host, self._port, self._source = host, port, source
        self.cookies: dict[str, str] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._writer is not None and time.monotonic() - self._used > IDLE_RECONNECT_SECONDS:
            self.close()
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self._host, self._port, local_addr=(self._source, 0)
            )
        return self._reader, self._writer

    async def send(
        self, method: str, target: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; the status, the headers (last value of each name) and the body."""
        headers: dict[str, str] = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = b""
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form).encode()
        reader, writer = await self._connection()
        writer.write(http_request(method, f"{self._host}:{self._port}", target, headers, body))
        status, pairs, answer, keep_alive = await read_message(reader)
        self._used = time.monotonic()
        for name, value in pairs:
            if name == "set-cookie":
                self._keep_cookie(value)
        if not keep_alive:
            self.close()
        return status, dict(pairs), answer

    def _keep_cookie(self, header: str) -> None:
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        if any(a.strip().lower() == "max-age=0" for a in attributes):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def close(self) -> None:
        """Close the connection, if open."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _hidden(page: bytes) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page.decode("utf-8", "replace"))}


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class SignInRun:
    """One sign-in job in progress, shared by its virtual clients."""

    job: dict[str, Any]
    host: str
    port: int
    start_recording: float
    deadline: float
    budget: int
    outbox: Outbox
    rng: random.Random
    next_index: int = 0
    in_flight: set[int] = field(default_factory=set)
    latencies: dict[str, list[int]] = field(default_factory=lambda: {step: [] for step in (*STEPS, "mail")})
    whole: list[int] = field(default_factory=list)
    records: list[dict[str, str]] = field(default_factory=list)
    started: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def pick_user(self) -> int:
        """A random user of the population that no other virtual client is signing in right now."""
        while True:
            user = self.rng.randrange(int(self.job["users"]))
            if user not in self.in_flight:
                self.in_flight.add(user)
                return user

    def error(self, why: str) -> None:
        """Count a failed sign-in."""
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(why)


async def _timed(run: SignInRun, step: str, recorded: bool, call: Any) -> Any:
    began = time.perf_counter_ns()
    answer = await call
    if recorded:
        run.latencies[step].append(time.perf_counter_ns() - began)
    return answer


async def _expect_redirect(answer: tuple[int, dict[str, str], bytes], step: str) -> str:
    status, headers, body = answer
    if status not in (302, 303) or "location" not in headers:
        raise SignInError(f"{step}: HTTP {status}: {body[:160]!r}")
    return headers["location"]


async def sign_in_once(run: SignInRun, browser: Browser, email: str, recorded: bool) -> dict[str, str]:
    """One whole sign-in of ``email``; its artefacts. Raises :class:`SignInError` on any surprise."""
    job = run.job
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": job["client_id"],
            "redirect_uri": job["redirect_uri"],
            "scope": job["scope"],
            "state": state,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
    )
    location = await _expect_redirect(
        await _timed(run, "authorize", recorded, browser.send("GET", f"/authorize?{query}")), "authorize"
    )
    status, _, page = await _timed(run, "signin_page", recorded, browser.send("GET", _path(location)))
    if status != 200:
        raise SignInError(f"signin_page: HTTP {status}")
    fields = _hidden(page)
    mark = run.outbox.last_id()
    posted = await _timed(run, "start", recorded, browser.send("POST", "/signin", {**fields, "email": email}))
    run.started += 1
    code_location = await _expect_redirect(posted, "start")
    waited = time.perf_counter_ns()
    found = run.outbox.code_after(email, mark)
    while found is None:
        if time.perf_counter_ns() - waited > MAIL_WAIT_SECONDS * 1e9:
            raise SignInError(f"no code mail within {MAIL_WAIT_SECONDS} s")
        await asyncio.sleep(0.005)
        found = run.outbox.code_after(email, mark)
    if recorded:
        run.latencies["mail"].append(time.perf_counter_ns() - waited)
    mail_id, code = found
    status, _, page = await _timed(run, "code_page", recorded, browser.send("GET", _path(code_location)))
    if status != 200:
        raise SignInError(f"code_page: HTTP {status}")
    code_fields = _hidden(page)
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    answer = await _timed(
        run, "code", recorded, browser.send("POST", "/signin/code", {**code_fields, "code": code})
    )
    resume = await _expect_redirect(answer, "code")
    callback = await _expect_redirect(
        await _timed(run, "continue", recorded, browser.send("GET", _path(resume))), "continue"
    )
    params = {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}
    if params.get("state") != state or "code" not in params:
        raise SignInError(f"continue: the callback carries no code for this state: {callback[:160]}")
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": job["redirect_uri"],
        "client_id": job["client_id"],
        "code_verifier": verifier,
    }
    status, _, body = await _timed(run, "token", recorded, browser.send("POST", "/token", form))
    tokens = json.loads(body) if status == 200 else {}
    if not isinstance(tokens.get("access_token"), str) or not isinstance(tokens.get("refresh_token"), str):
        raise SignInError(f"token: HTTP {status}: {body[:160]!r}")
    return {
        "email": email,
        "mail_id": str(mail_id),
        "cookie": cookie,
        "csrf": code_fields.get("csrf", ""),
        "request": code_fields.get("request", ""),
        "code": code,
        "authorization_code": params["code"],
        "code_verifier": verifier,
        "refresh_token": tokens["refresh_token"],
    }


async def _client(run: SignInRun) -> None:
    while (now := time.perf_counter()) < run.deadline:
        recorded = now >= run.start_recording
        if recorded:
            if run.budget <= 0:
                return
            run.budget -= 1
        index = int(run.job.get("address_offset", 0)) + run.next_index
        run.next_index += 1
        user = run.pick_user()
        email = str(run.job["email_format"]).format(user)
        browser = Browser(run.host, run.port, source_address(index))
        began = time.perf_counter_ns()
        try:
            run.records.append(await sign_in_once(run, browser, email, recorded))
            if recorded:
                run.whole.append(time.perf_counter_ns() - began)
        except (SignInError, ValueError, asyncio.IncompleteReadError, ConnectionError) as exc:
            run.error(f"{email}: {exc}")
        finally:
            browser.close()
            run.in_flight.discard(user)


async def run_signin_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run a ``signin`` job and summarise it: sign-ins/s, per-step latencies, errors, artefacts."""
    url = urlsplit(job["issuer"])
    host, port = url.hostname or "", url.port or 80
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load a non-loopback host: {host}")
    outbox = Outbox(job["outbox"])
    mails_before = outbox.last_id()
    start_recording = time.perf_counter() + float(job.get("warmup_seconds", 0.5))
    run = SignInRun(
        job,
        host,
        port,
        start_recording,
        deadline=start_recording + float(job["seconds"]),
        budget=int(job.get("max_requests", 100_000)),
        outbox=outbox,
        rng=random.Random(job.get("seed")),  # which user signs in next: not a secret
    )
    await asyncio.gather(*(_client(run) for _ in range(int(job["clients"]))))
    measured = time.perf_counter() - start_recording
    requests = sorted(ns for step in STEPS for ns in run.latencies[step])
    whole = sorted(run.whole)
    return {
        "clients": int(job["clients"]),
        "seconds": round(measured, 3),
        "requests": len(requests),
        "rps": len(requests) / measured if measured > 0 else 0.0,
        "p50_ms": percentile(requests, 0.50),
        "p99_ms": percentile(requests, 0.99),
        "signins": len(whole),
        "signins_per_second": len(whole) / measured if measured > 0 else 0.0,
        "signin_p50_ms": percentile(whole, 0.50),
        "signin_p99_ms": percentile(whole, 0.99),
        "steps": {
            step: {
                "p50_ms": percentile(sorted(values), 0.50),
                "p99_ms": percentile(sorted(values), 0.99),
                "count": len(values),
            }
            for step, values in run.latencies.items()
        },
        "errors": run.errors,
        "error_samples": run.error_samples,
        "started": run.started,
        "mails": outbox.last_id() - mails_before,
        "records": run.records,
    }
