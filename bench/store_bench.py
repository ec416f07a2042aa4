#!/usr/bin/env python3
"""The token endpoint and the email-code sign-in on each store: SQLite, PostgreSQL, DynamoDB (moto).

For each backend the benchmark starts the store's server itself (the store tests' throwaway
PostgreSQL cluster and moto server, ``tests/store/servers.py``), migrates it, runs a default
single-process ``tessera dev --store URL`` on a free 127.0.0.1 port and loads ``--store-users``
users into the store (``load_users.py``). Separate load-generator processes (``loadgen.py``:
closed loop) then drive, at 8 and 32 clients:

- ``/token`` with client_credentials and refresh_token (rotating chains seeded by real sign-ins);
- the email-code sign-in of random loaded users, each from its own source address
  (``signin_load.py``): start (POST /signin), the code read from the dev outbox, the code
  (POST /signin/code), the token (/authorize/continue and POST /token).

requests/s, p50/p99 and errors (which must be zero). After the run, nothing may be lost or
double-spent: every refresh chain's last token redeems once and is refused when replayed; every
sign-in got exactly one mail and its own code, authorization code and refresh token; its refresh
token redeems, and its email code and authorization code are refused when replayed
(``signin_ledger.py``).

Standalone: ``python bench/store_bench.py [--quick]``; from ``bench/run.py``: ``run(args)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from tests.interop.providers import OP  # noqa: E402

import token_endpoint_bench as token_bench  # noqa: E402
from load_users import EMAIL_FORMAT, load  # noqa: E402
from signin_ledger import REDIRECT_URI, replay_signins, signin_problems  # noqa: E402
from tessera.store.url import migrate_store  # noqa: E402
from tessera.testing.devserver import DevServer  # noqa: E402

BACKENDS = ("sqlite", "postgresql", "dynamodb")
GRANTS = ("client_credentials", "refresh_token", "signin")
SERVICE_SECRET = "store-bench-service-secret-" + "s" * 20
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def add_arguments(parser: argparse.ArgumentParser, *, standalone: bool = False) -> None:
    """Options of this benchmark (prefixed ``--store-``; standalone, ``--seconds`` too)."""
    seconds = ["--store-seconds", "--seconds"] if standalone else ["--store-seconds"]
    parser.add_argument("--store-backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--store-clients", default="8,32", help="concurrency levels, comma-separated")
    parser.add_argument(*seconds, dest="store_seconds", type=float, default=60.0, help="seconds per cell")
    parser.add_argument("--store-grants", default=",".join(GRANTS), help="comma-separated")
    parser.add_argument("--store-users", type=int, default=2000, help="users loaded into each store")


@contextmanager
def store_server(kind: str, root: Path) -> Iterator[str]:
    """A migrated store's URL: SQLite in ``root`` (``tessera dev``'s own file), else on a new server."""
    from tests.store.servers import postgres_server

    from moto_server import moto_server

    if kind == "sqlite":
        url = f"sqlite:///{root / 'tessera.db'}"
        migrate_store(url)
        yield url
    elif kind == "postgresql":
        with postgres_server() as url:
            migrate_store(url)
            yield url
    else:
        with moto_server() as endpoint:
            url = f"dynamodb://tessera-bench?region=us-east-1&endpoint_url={endpoint}"
            migrate_store(url)
            yield url


@contextmanager
def bench_provider(kind: str) -> Iterator[tuple[DevServer, str]]:
    """A default single-process ``tessera dev`` on a fresh store of ``kind``, and the store's URL."""
    with ExitStack() as stack:
        root = stack.enter_context(tempfile.TemporaryDirectory(prefix="tessera-store-bench-"))
        url = stack.enter_context(store_server(kind, Path(root)))
        env = {**AWS_ENV, "TESSERA_DEV_SERVICE_SECRET": SERVICE_SECRET}
        if kind != "sqlite":
            env["TESSERA_STORE"] = url
        with DevServer(users=("alice@example.com",), data=root, env=env) as server:
            yield server, url


def _op(server: DevServer) -> OP:
    args = argparse.Namespace(
        token_issuer=server.issuer,
        token_name="tessera",
        token_email="alice@example.com",
        token_service_client="dev-service",
        token_service_secret=SERVICE_SECRET,
        token_public_client="dev-spa",
        token_redirect_uri=REDIRECT_URI,
        token_resource=None,
    )
    return token_bench._external_op(args)


def _spent_check(op: OP, chains: list[str | None]) -> list[str]:
    """Each chain's last token redeems once, and the token it replaced is then refused."""
    problems = []
    endpoint = op.discovery()["token_endpoint"]
    with httpx.Client(timeout=30) as client:
        for index, last in enumerate(chains):
            if last is None:
                problems.append(f"chain {index} ended without a refresh token")
                continue
            form = {"grant_type": "refresh_token", "client_id": op.public_client_id, "refresh_token": last}
            fresh = client.post(endpoint, data=form)
            if fresh.status_code != 200:
                problems.append(f"chain {index}: its last refresh token was lost ({fresh.status_code})")
                continue
            replay = client.post(endpoint, data=form)
            if replay.status_code == 200:
                problems.append(f"chain {index}: a spent refresh token was accepted again")
            chains[index] = fresh.json().get("refresh_token")
    return problems


def signin_job(server: DevServer, clients: int, seconds: float, users: int, offset: int) -> dict[str, Any]:
    """A ``signin`` job for ``loadgen.py``: random loaded users, source addresses from ``offset`` on."""
    return {
        "kind": "signin",
        "issuer": server.issuer,
        "outbox": str(server.data / "outbox.db"),
        "client_id": "dev-spa",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid offline_access",
        "email_format": EMAIL_FORMAT,
        "users": users,
        "address_offset": offset,
        "clients": clients,
        "seconds": seconds,
        "max_requests": 10**7,
    }


def measure_backend(
    kind: str,
    levels: list[int],
    seconds: float,
    *,
    grants: list[str],
    users: int,
    data: dict[str, Any],
    after_load: Callable[[dict[str, Any]], None] | None = None,
    load_seconds: float | None = None,
) -> None:
    """Start ``kind``'s store and provider, load ``users``, run the cells; append to ``data``.

    ``load_seconds`` bounds the load (the cells then use the users it loaded); ``after_load``
    may add to the load's entry (in ``data["loads"]``) before the cells run.
    """
    cap = 10**7
    with bench_provider(kind) as (server, url):
        loaded, load_took = load(url, users, max_seconds=load_seconds)
        entry = {"store": kind, "users": loaded, "asked": users, "seconds": load_took}
        if after_load is not None:
            after_load(entry)
        data["loads"].append(entry)
        users = loaded
        op = _op(server)
        chains = token_bench._seed_chains(op, max(levels)) if "refresh_token" in grants else []
        offset = 0
        for clients in levels:
            if "client_credentials" in grants:
                result = token_bench._loadgen(token_bench._cc_job(op, clients, seconds, cap))
                data["cells"].append({"store": kind, "grant": "client_credentials", **_cell(result)})
            if "refresh_token" in grants:
                own = chains[:clients]
                result = token_bench._loadgen(token_bench._refresh_job(op, own, seconds, cap))
                chains[:clients] = result.pop("refresh_tokens")
                data["cells"].append({"store": kind, "grant": "refresh_token", **_cell(result)})
            if "signin" in grants:
                result = token_bench._loadgen(signin_job(server, clients, seconds, users, offset))
                offset += result["started"] + result["errors"] + clients
                replays = replay_signins(server.issuer, result["records"])
                label = f"{kind} signin x{clients}"
                data["problems"] += [f"{label}: {problem}" for problem in signin_problems(result, replays)]
                data["cells"].append({"store": kind, "grant": "signin", **_cell(result)})
        if chains:
            data["problems"] += [f"{kind}: {problem}" for problem in _spent_check(op, chains)]
    for cell in data["cells"]:
        if cell["store"] == kind and cell["errors"]:
            data["problems"].append(f"{kind} {cell['grant']} x{cell['clients']}: {cell['errors']} errors")


def _cell(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("clients", "rps", "p50_ms", "p99_ms", "errors", "requests", "seconds", "error_samples")
    keys += ("signins", "signins_per_second", "signin_p50_ms", "signin_p99_ms", "steps")
    return {key: result[key] for key in keys if key in result}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every backend's cells; the raw results."""
    quick = getattr(args, "quick", False)
    seconds = 3.0 if quick else args.store_seconds
    levels = [int(level) for level in args.store_clients.split(",")]
    grants = args.store_grants.split(",")
    users = min(args.store_users, 200) if quick else args.store_users
    os.environ.update({k: os.environ.get(k, v) for k, v in AWS_ENV.items()})
    data: dict[str, Any] = {
        "seconds": seconds,
        "levels": levels,
        "uptime_before": uptime(),
        "load_before": os.getloadavg()[0],
        "loads": [],
        "cells": [],
        "problems": [],
        "skipped": [],
    }
    for kind in args.store_backends.split(","):
        try:
            measure_backend(kind, levels, seconds, grants=grants, users=users, data=data)
        except BaseException as exc:  # pytest.skip from the server helpers when a server is missing
            if type(exc).__name__ != "Skipped":
                raise
            data["skipped"].append(f"{kind}: {exc}")
    data["load_after"] = os.getloadavg()[0]
    data["uptime_after"] = uptime()
    return data


def uptime() -> str:
    """``uptime``'s line: the time and the load averages over 1, 5 and 15 minutes."""
    one, five, fifteen = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return f"{stamp}, load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def cell_rows(cells: list[dict[str, Any]]) -> list[str]:
    """The markdown rows of ``cells``: the three grants' requests, and whole sign-ins."""
    lines = [
        "| store | flow | clients | req/s | p50 ms | p99 ms | sign-ins/s | sign-in p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in cells:
        signin = cell["grant"] == "signin"
        lines.append(
            f"| {cell['store']} | {cell['grant']} | {cell['clients']} | {cell['rps']:.0f} "
            f"| {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} "
            f"| {cell['signins_per_second']:.1f} | {cell['signin_p99_ms']:.0f} | {cell['errors']} |"
            if signin
            else f"| {cell['store']} | {cell['grant']} | {cell['clients']} | {cell['rps']:.0f} "
            f"| {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} | | | {cell['errors']} |"
        )
    return lines


def step_rows(cells: list[dict[str, Any]]) -> list[str]:
    """p50 / p99 ms of each sign-in step, one row per sign-in cell."""
    steps = ("start", "mail", "code", "continue", "token", "authorize", "signin_page", "code_page")
    lines = [
        "| store | clients | " + " | ".join(steps) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in steps) + " |",
    ]
    for cell in cells:
        if cell["grant"] == "signin":
            shown = [f"{cell['steps'][s]['p50_ms']:.0f} / {cell['steps'][s]['p99_ms']:.0f}" for s in steps]
            lines.append(f"| {cell['store']} | {cell['clients']} | " + " | ".join(shown) + " |")
    return lines


def report(data: dict[str, Any]) -> str:
    """The markdown tables for ``data``."""
    loads = ", ".join(
        f"{load['users']} users into {load['store']} in {load['seconds']:.1f} s" for load in data["loads"]
    )
    lines = [
        f"Default single-process `tessera dev --store URL`; closed loop, {data['seconds']} s per cell; "
        f"{os.cpu_count()} CPUs shared by the store's server, the provider and the generator. "
        f"Before: {data['uptime_before']}. After: {data['uptime_after']}. Loaded: {loads}.",
        "",
        *cell_rows(data["cells"]),
        "",
        "Sign-in steps, p50 / p99 ms (`mail`: from the start's answer to the code in the outbox):",
        "",
        *step_rows(data["cells"]),
        "",
        "After the run: each refresh chain's last token redeemed once and its predecessor refused; "
        "each sign-in had one mail, its own authorization code and refresh token; each refresh "
        "token redeemed, each email code and authorization code refused when replayed.",
    ]
    if data["skipped"]:
        lines += ["", "Not run: " + "; ".join(data["skipped"])]
    if data["problems"]:
        lines += ["", "### Problems", "", *[f"- {problem}" for problem in data["problems"]]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """Measure and return (markdown, raw data); ``data["problems"]`` lists correctness failures."""
    data = measure(args)
    return report(data), data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s cells, 200 users: a smoke run")
    add_arguments(parser, standalone=True)
    markdown, data = run(parser.parse_args())
    print(f"## Token endpoint and sign-in on each store\n\n{markdown}")
    sys.exit(1 if data["problems"] else 0)


if __name__ == "__main__":
    main()
