#!/usr/bin/env python3
"""The token endpoint under load: client_credentials and refresh_token grants, beside oidc-provider.

For each provider (panva's oidc-provider in dev mode, every other provider registered in
``tests/interop/conftest.py``, and ``--issuer URL`` for an already running one such as
``tessera dev``) and each concurrency level (1, 8, 32 clients), a separate load-generator process
(``loadgen.py``: closed loop, raw keep-alive asyncio connections) drives the token endpoint on
127.0.0.1 and reports requests/s and p50/p99 latency. For refresh_token each virtual client
follows its own rotating chain, seeded by a real code flow, and a token that comes back twice is
a problem. The generator's own ceiling is measured first against a trivial Node endpoint (and
wrk's, when wrk is installed), so the table shows it is not the bottleneck.

Standalone: ``python bench/token_endpoint_bench.py [--issuer URL] [--quick]``; from
``bench/run.py``: ``run(args)`` returns the markdown report and the raw data.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from tests.interop.conftest import PROVIDERS  # noqa: E402  (the interop tests' provider registry)
from tests.interop.flows import signed_in_tokens  # noqa: E402
from tests.interop.providers import (  # noqa: E402
    NODE_MODULES,
    OP,
    free_port,
    node_server,
    oidc_provider_sign_in,
)

from loadgen import basic_auth  # noqa: E402

GRANTS = ("client_credentials", "refresh_token")
REFERENCE = "oidc-provider"


def add_arguments(parser: argparse.ArgumentParser, *, standalone: bool = False) -> None:
    """Options of this benchmark (prefixed ``--token-`` when registered in bench/run.py)."""
    issuer = ["--token-issuer", "--issuer"] if standalone else ["--token-issuer"]
    parser.add_argument(
        *issuer, dest="token_issuer", help="an already running OP to measure (e.g. tessera dev)"
    )
    parser.add_argument("--token-name", default="tessera", help="label of --token-issuer in the tables")
    parser.add_argument(
        "--token-email",
        default="alice@example.com",
        help="user that signs in to --token-issuer through its dev outbox (seeds the refresh chains)",
    )
    parser.add_argument("--token-service-client", default="dev-service")
    parser.add_argument(
        "--token-service-secret",
        default=os.environ.get("TESSERA_DEV_SERVICE_SECRET"),
        help="secret of the client_credentials client (default: $TESSERA_DEV_SERVICE_SECRET)",
    )
    parser.add_argument("--token-public-client", default="dev-spa")
    parser.add_argument("--token-redirect-uri", default="http://127.0.0.1:8765/callback")
    parser.add_argument("--token-resource", default=None, help="RFC 8707 resource to ask tokens for")
    parser.add_argument("--token-clients", default="1,8,32", help="concurrency levels, comma-separated")
    parser.add_argument("--token-seconds", type=float, default=2.0, help="measured seconds per round")
    parser.add_argument(
        "--token-rounds",
        type=int,
        default=3,
        help="interleaved rounds per cell; the median round is reported",
    )
    parser.add_argument("--token-max-requests", type=int, default=60_000, help="cap per cell")


def _external_sign_in(args: argparse.Namespace, redirect_uri: str) -> Callable[[str], str]:
    if args.token_name == REFERENCE:
        return lambda url: oidc_provider_sign_in(url, redirect_uri=redirect_uri)

    # One browser session for every seed: after the first sign-in (email, then the code read from
    # GET /dev/outbox) the session cookie lets the next authorizations through without another
    # mail, so the per-address resend throttle is not hit.
    browser = httpx.Client(timeout=10)

    def via_outbox(url: str) -> str:
        signin = importlib.import_module("tessera.testing.signin")
        return str(signin.sign_in_via_outbox(browser, url, args.token_email, issuer=args.token_issuer))

    return via_outbox


def _external_op(args: argparse.Namespace) -> OP:
    if not args.token_service_secret:
        raise SystemExit("--token-service-secret (or TESSERA_DEV_SERVICE_SECRET) is needed with --issuer")
    redirect_uri = args.token_redirect_uri
    return OP(
        name=args.token_name,
        issuer=args.token_issuer.rstrip("/"),
        public_client_id=args.token_public_client,
        redirect_uri=redirect_uri,
        service_client_id=args.token_service_client,
        service_client_secret=args.token_service_secret,
        audience=args.token_resource or "",
        resource=args.token_resource,
        sign_in=_external_sign_in(args, redirect_uri),
    )


def _loadgen(job: dict[str, Any]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(HERE / "loadgen.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=float(job["seconds"]) + 120,
        check=True,
    )
    result = json.loads(completed.stdout)
    assert isinstance(result, dict)
    return result


def _wrk(url: str, clients: int, seconds: float, lua: str | None = None) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua or "")
    try:
        command = [
            wrk,
            "-t1",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            script.name,
            url,
        ]
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    finally:
        Path(script.name).unlink()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "clients": clients,
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"),
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _cc_job(op: OP, clients: int, seconds: float, cap: int) -> dict[str, Any]:
    form = {"grant_type": "client_credentials", "scope": op.service_scope, **op.resource_params()}
    return {
        "kind": "fixed",
        "url": op.discovery()["token_endpoint"],
        "method": "POST",
        "headers": {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": basic_auth(op.service_client_id, op.service_client_secret),
        },
        "body": "&".join(f"{k}={v}" for k, v in form.items()),
        "clients": clients,
        "seconds": seconds,
        "max_requests": cap,
    }


def _refresh_job(op: OP, chains: list[str | None], seconds: float, cap: int) -> dict[str, Any]:
    return {
        "kind": "refresh",
        "url": op.discovery()["token_endpoint"],
        "form": {"client_id": op.public_client_id, **op.resource_params()},
        "refresh_tokens": chains,
        "clients": len(chains),
        "seconds": seconds,
        "max_requests": cap,
    }


def _seed_chains(op: OP, count: int) -> list[str | None]:
    chains: list[str | None] = []
    for _ in range(count):
        _, tokens = signed_in_tokens(op)
        chains.append(tokens["refresh_token"])
    return chains


def _targets(stack: ExitStack, args: argparse.Namespace) -> Iterator[OP]:
    for name in sorted(PROVIDERS, key=lambda name: name != REFERENCE):
        yield stack.enter_context(PROVIDERS[name]())
    if args.token_issuer:
        yield _external_op(args)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every cell and return the raw results."""
    levels = [int(level) for level in args.token_clients.split(",")]
    quick = getattr(args, "quick", False)
    seconds = 0.5 if quick else args.token_seconds
    rounds = 1 if quick else args.token_rounds
    cap = args.token_max_requests
    data: dict[str, Any] = {
        "levels": levels,
        "seconds": seconds,
        "rounds": rounds,
        "calibration": [],
        "cells": [],
        "problems": [],
    }
    with ExitStack() as stack:
        trivial = stack.enter_context(node_server(HERE / "trivial_server.mjs", str(free_port()), env={}))
        for clients in (max(levels),):
            job = {
                "kind": "fixed",
                "url": trivial["url"],
                "method": "GET",
                "clients": clients,
                "seconds": seconds,
            }
            data["calibration"].append(
                {"generator": "loadgen.py (asyncio)", **_loadgen({**job, "max_requests": 10**7})}
            )
            wrk = _wrk(trivial["url"], clients, seconds)
            if wrk is not None:
                data["calibration"].append({"generator": "wrk -t1", **wrk})
        targets = list(_targets(stack, args))
        chains: dict[str, list[str | None]] = {}
        for op in targets:
            try:
                chains[op.name] = _seed_chains(op, max(levels))
            except (ImportError, AssertionError, KeyError, httpx.HTTPError) as exc:
                data["problems"].append(f"{op.name}: refresh chains not seeded ({exc})")
        for grant in GRANTS:
            for clients in levels:
                runs: dict[str, list[dict[str, Any]]] = {op.name: [] for op in targets}
                for _ in range(rounds):
                    for op in targets:
                        if grant == "client_credentials":
                            runs[op.name].append(_loadgen(_cc_job(op, clients, seconds, cap)))
                        elif op.name in chains:
                            own = chains[op.name]
                            result = _loadgen(_refresh_job(op, own[:clients], seconds, cap))
                            own[:clients] = result.pop("refresh_tokens")
                            runs[op.name].append(result)
                for name, results in runs.items():
                    if results:
                        data["cells"].append({"op": name, "grant": grant, **_median_round(results)})
                        errors = sum(result["errors"] for result in results)
                        if errors:
                            sample = next(r["error_samples"][:1] for r in results if r["errors"])
                            data["problems"].append(f"{name} {grant} x{clients}: {errors} errors, {sample}")
    return data


def _median_round(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput, with the spread of all rounds and their total errors."""
    ordered = sorted(results, key=lambda result: result["rps"])
    median = dict(ordered[len(ordered) // 2])
    median["rps_min"], median["rps_max"] = ordered[0]["rps"], ordered[-1]["rps"]
    median["errors"] = sum(result["errors"] for result in results)
    return median


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def report(data: dict[str, Any]) -> str:
    """The markdown tables for ``data``."""
    lines = [
        f"Closed loop, keep-alive; per cell {data['rounds']} interleaved rounds of {data['seconds']} s "
        "(after a 0.5 s warm-up each), the median round shown with the req/s range of all rounds; "
        f"{os.cpu_count()} CPUs shared by the OP and the generator; load average at the end "
        f"{os.getloadavg()[0]:.2f}.",
        "",
        "### Load generator ceiling (trivial Node endpoint, fixed JSON)",
        "",
        _row(["generator", "clients", "req/s", "p50 ms", "p99 ms"]),
        _row(["---", "---:", "---:", "---:", "---:"]),
    ]
    for row in data["calibration"]:
        lines.append(
            _row(
                [
                    row["generator"],
                    str(row["clients"]),
                    f"{row['rps']:.0f}",
                    f"{row['p50_ms']:.2f}",
                    f"{row['p99_ms']:.2f}",
                ]
            )
        )
    ops = list(dict.fromkeys(cell["op"] for cell in data["cells"]))
    for grant in GRANTS:
        lines += [
            "",
            f"### {grant}",
            "",
            _row(["OP", "clients", "req/s", "range", "p50 ms", "p99 ms", "errors"]),
        ]
        lines.append(_row(["---", "---:", "---:", "---:", "---:", "---:", "---:"]))
        for cell in data["cells"]:
            if cell["grant"] == grant:
                lines.append(
                    _row(
                        [
                            cell["op"],
                            str(cell["clients"]),
                            f"{cell['rps']:.0f}",
                            f"{cell['rps_min']:.0f}-{cell['rps_max']:.0f}",
                            f"{cell['p50_ms']:.2f}",
                            f"{cell['p99_ms']:.2f}",
                            str(cell["errors"]),
                        ]
                    )
                )
    others = [name for name in ops if name != REFERENCE]
    if others:
        lines += [
            "",
            f"### Ratio to {REFERENCE} (req/s; >1 is faster)",
            "",
            _row(["OP", "grant", *map(str, data["levels"])]),
        ]
        lines.append(_row(["---", "---", *["---:"] * len(data["levels"])]))
        by_key = {(cell["op"], cell["grant"], cell["clients"]): cell for cell in data["cells"]}
        for name in others:
            for grant in GRANTS:
                ratios = []
                for level in data["levels"]:
                    mine, ref = by_key.get((name, grant, level)), by_key.get((REFERENCE, grant, level))
                    ratios.append(f"{mine['rps'] / ref['rps']:.2f}" if mine and ref and ref["rps"] else "n/a")
                lines.append(_row([name, grant, *ratios]))
    else:
        lines += [
            "",
            f"Only {REFERENCE} was measured: register Tessera in tests/interop/conftest.py, or --issuer.",
        ]
    if data["problems"]:
        lines += ["", "### Problems", "", *[f"- {problem}" for problem in data["problems"]]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """Measure and return (markdown, raw data); ``data["problems"]`` lists correctness failures."""
    if not NODE_MODULES.is_dir() or shutil.which("node") is None:
        reason = "not run: oidc-provider needs Node and `npm ci --prefix node`"
        return reason, {"skipped": reason, "problems": []}
    data = measure(args)
    return report(data), data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="0.5 s cells: a smoke run, not a result")
    add_arguments(parser, standalone=True)
    markdown, data = run(parser.parse_args())
    print(f"## Token endpoint under load\n\n{markdown}")
    sys.exit(1 if data["problems"] else 0)


if __name__ == "__main__":
    main()
