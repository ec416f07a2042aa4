#!/usr/bin/env python3
"""Product scale: 500,000 users in PostgreSQL and in DynamoDB (moto), then sign-in and token latency.

For each store the benchmark starts a default single-process ``tessera dev --store URL`` on a
fresh store (``store_bench.bench_provider``), loads ``--scale-users`` users into it with
``load_users.py`` (batched, with a progress bar), and drives, at ``--scale-clients`` clients
(32), the email-code sign-in of random loaded users, then client_credentials and refresh_token
at ``/token`` (``store_bench``'s cells, with its lost/double-spent checks). The target is a
p99 under 150 ms for the sign-in's requests and the token grants. moto keeps every item in one
Python process's memory: its resident size after the load is reported.

Standalone: ``python bench/scale_bench.py [--quick]``; from ``bench/run.py``: ``run(args)``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import store_bench  # noqa: E402

TARGET_P99_MS = 150.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark (prefixed ``--scale-``)."""
    parser.add_argument("--scale-backends", default="postgresql,dynamodb", help="comma-separated")
    parser.add_argument("--scale-users", type=int, default=500_000, help="users loaded into each store")
    parser.add_argument("--scale-clients", type=int, default=32)
    parser.add_argument("--scale-seconds", type=float, default=60.0, help="measured seconds per cell")
    parser.add_argument("--scale-grants", default="signin,client_credentials,refresh_token")
    parser.add_argument(
        "--scale-load-seconds",
        type=float,
        default=None,
        help="stop loading a store after this long and measure the users loaded (moto is slow)",
    )


def moto_rss_mb() -> float | None:
    """Resident memory of this process's moto server child, in MB (None when there is none)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == me and b"moto_server.py" in command:
            return int(fields["VmRSS"].split()[0]) / 1024
    return None


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Load and measure each store; the raw results."""
    quick = getattr(args, "quick", False)
    users = 2000 if quick else args.scale_users
    seconds = 3.0 if quick else args.scale_seconds
    os.environ.update({k: os.environ.get(k, v) for k, v in store_bench.AWS_ENV.items()})
    data: dict[str, Any] = {
        "users": users,
        "seconds": seconds,
        "clients": args.scale_clients,
        "uptime_before": store_bench.uptime(),
        "loads": [],
        "cells": [],
        "problems": [],
        "skipped": [],
    }
    for kind in args.scale_backends.split(","):
        try:
            store_bench.measure_backend(
                kind,
                [args.scale_clients],
                seconds,
                grants=args.scale_grants.split(","),
                users=users,
                data=data,
                after_load=lambda load: load.update(moto_rss_mb=moto_rss_mb(), uptime=store_bench.uptime()),
                load_seconds=args.scale_load_seconds,
            )
        except BaseException as exc:  # pytest.skip from the server helpers when a server is missing
            if type(exc).__name__ == "Skipped":
                data["skipped"].append(f"{kind}: {exc}")
            elif isinstance(exc, Exception):  # keep the other stores' results
                data["problems"].append(f"{kind}: the run failed: {type(exc).__name__}: {exc}")
            else:
                raise
    data["uptime_after"] = store_bench.uptime()
    return data


def report(data: dict[str, Any]) -> str:
    """The markdown for ``data``."""
    lines = [
        f"{data['users']} users asked per store; default single-process `tessera dev --store URL`; "
        f"{data['clients']} clients, closed loop, {data['seconds']} s per cell; {os.cpu_count()} CPUs "
        f"shared by the store's server, the provider and the generator. Before: {data['uptime_before']}. "
        f"After: {data['uptime_after']}.",
        "",
        "| store | users loaded (asked) | load s | users/s | moto RSS MB | uptime after the load |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for load in data["loads"]:
        rss = load.get("moto_rss_mb")
        rate = load["users"] / load["seconds"]
        lines.append(
            f"| {load['store']} | {load['users']} ({load['asked']}) | {load['seconds']:.0f} | {rate:.0f} "
            f"| {f'{rss:.0f}' if rss is not None else ''} | {load.get('uptime', '')} |"
        )
    lines += ["", *store_bench.cell_rows(data["cells"]), ""]
    lines += ["Sign-in steps, p50 / p99 ms:", "", *store_bench.step_rows(data["cells"]), ""]
    lines += [f"Target: p99 under {TARGET_P99_MS:.0f} ms at {data['clients']} clients.", ""]
    lines += ["| store | flow | p99 ms | met |", "| --- | --- | ---: | :---: |"]
    for cell in data["cells"]:
        met = "yes" if cell["p99_ms"] < TARGET_P99_MS else "no"
        lines.append(f"| {cell['store']} | {cell['grant']} | {cell['p99_ms']:.0f} | {met} |")
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
    parser.add_argument("--quick", action="store_true", help="2,000 users, 3 s cells: a smoke run")
    add_arguments(parser)
    markdown, data = run(parser.parse_args())
    print(f"## 500,000 users\n\n{markdown}")
    sys.exit(1 if data["problems"] else 0)


if __name__ == "__main__":
    main()
