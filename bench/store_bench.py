#!/usr/bin/env python3
"""The token endpoint on each store: SQLite, PostgreSQL and DynamoDB (moto server), side by side.

For each backend the benchmark starts the store's server itself (the store tests' throwaway
PostgreSQL cluster and moto server, ``tests/store/servers.py``), migrates it, and runs a default
single-process ``tessera dev --store URL`` on a free 127.0.0.1 port. ``loadgen.py`` (closed loop,
keep-alive) then drives ``/token`` with client_credentials and refresh_token at 8 and 32
clients: requests/s, p50/p99, errors (must be zero). After the refresh cells, every chain's
last token must redeem once (nothing lost) and the token it replaced must be refused (nothing
double-spent). Not measured here yet: the email-code sign-in (start, code, token).

Standalone: ``python bench/store_bench.py [--quick]``; from ``bench/run.py``: ``run(args)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from tests.interop.providers import OP  # noqa: E402

import token_endpoint_bench as token_bench  # noqa: E402
from tessera.store.url import migrate_store  # noqa: E402
from tessera.testing.devserver import DevServer  # noqa: E402

BACKENDS = ("sqlite", "postgresql", "dynamodb")
SERVICE_SECRET = "store-bench-service-secret-" + "s" * 20
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark (prefixed ``--store-``)."""
    parser.add_argument("--store-backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--store-clients", default="8,32", help="concurrency levels, comma-separated")
    parser.add_argument("--store-seconds", type=float, default=60.0, help="measured seconds per cell")


@contextmanager
def _store_url(kind: str) -> Iterator[str | None]:
    """None for SQLite (``tessera dev``'s own file), else a migrated store on a server started here."""
    from tests.store.servers import moto_server, postgres_server

    if kind == "sqlite":
        yield None
    elif kind == "postgresql":
        with postgres_server() as url:
            migrate_store(url)
            yield url
    else:
        with moto_server() as endpoint:
            url = f"dynamodb://tessera-bench?region=us-east-1&endpoint_url={endpoint}"
            migrate_store(url)
            yield url


def _op(server: DevServer) -> OP:
    args = argparse.Namespace(
        token_issuer=server.issuer,
        token_name="tessera",
        token_email="alice@example.com",
        token_service_client="dev-service",
        token_service_secret=SERVICE_SECRET,
        token_public_client="dev-spa",
        token_redirect_uri="http://127.0.0.1:8765/callback",
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


def _measure_backend(kind: str, levels: list[int], seconds: float, data: dict[str, Any]) -> None:
    cap = 10**7
    with _store_url(kind) as url, tempfile.TemporaryDirectory(prefix="tessera-store-bench-") as root:
        env = {**AWS_ENV, "TESSERA_DEV_SERVICE_SECRET": SERVICE_SECRET}
        if url is not None:
            env["TESSERA_STORE"] = url
        with DevServer(users=("alice@example.com",), data=root, env=env) as server:
            op = _op(server)
            chains = token_bench._seed_chains(op, max(levels))
            for clients in levels:
                result = token_bench._loadgen(token_bench._cc_job(op, clients, seconds, cap))
                data["cells"].append({"store": kind, "grant": "client_credentials", **_cell(result)})
                own = chains[:clients]
                result = token_bench._loadgen(token_bench._refresh_job(op, own, seconds, cap))
                chains[:clients] = result.pop("refresh_tokens")
                data["cells"].append({"store": kind, "grant": "refresh_token", **_cell(result)})
            data["problems"] += [f"{kind}: {problem}" for problem in _spent_check(op, chains)]
    for cell in data["cells"]:
        if cell["store"] == kind and cell["errors"]:
            data["problems"].append(f"{kind} {cell['grant']} x{cell['clients']}: {cell['errors']} errors")


def _cell(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("clients", "rps", "p50_ms", "p99_ms", "errors", "requests")
    return {key: result[key] for key in keys if key in result}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every backend's cells; the raw results."""
    quick = getattr(args, "quick", False)
    seconds = 3.0 if quick else args.store_seconds
    levels = [int(level) for level in args.store_clients.split(",")]
    os.environ.update({k: os.environ.get(k, v) for k, v in AWS_ENV.items()})
    data: dict[str, Any] = {
        "seconds": seconds,
        "levels": levels,
        "load_before": os.getloadavg()[0],
        "cells": [],
        "problems": [],
        "skipped": [],
    }
    for kind in args.store_backends.split(","):
        try:
            _measure_backend(kind, levels, seconds, data)
        except BaseException as exc:  # pytest.skip from the server helpers when a server is missing
            if type(exc).__name__ != "Skipped":
                raise
            data["skipped"].append(f"{kind}: {exc}")
    data["load_after"] = os.getloadavg()[0]
    return data


def report(data: dict[str, Any]) -> str:
    """The markdown table for ``data``."""
    lines = [
        f"Default single-process `tessera dev --store URL`; closed loop, keep-alive, {data['seconds']} s "
        f"per cell; {os.cpu_count()} CPUs shared by the store's server, the provider and the generator; "
        f"load average {data['load_before']:.1f} before, {data['load_after']:.1f} after.",
        "",
        "| store | grant | clients | req/s | p50 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in data["cells"]:
        lines.append(
            f"| {cell['store']} | {cell['grant']} | {cell['clients']} | {cell['rps']:.0f} "
            f"| {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} | {cell['errors']} |"
        )
    lines += ["", "Refresh chains after the run: each last token redeemed once, its predecessor refused."]
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
    parser.add_argument("--quick", action="store_true", help="3 s cells: a smoke run, not a result")
    add_arguments(parser)
    markdown, data = run(parser.parse_args())
    print(f"## Token endpoint on each store\n\n{markdown}")
    sys.exit(1 if data["problems"] else 0)


if __name__ == "__main__":
    main()
