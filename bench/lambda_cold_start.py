#!/usr/bin/env python3
"""Cold start of the provider's Lambda handler on DynamoDB (moto's server).

Each sample is a fresh Python process (``.pyc`` caches warm, as in a Lambda container image):
it imports ``tessera.issue.hosting.lambda_handler``, then answers one client_credentials ``/token``
API Gateway v2 event, which opens the store (boto3 client), loads the keys and signs. The
process reports its import and first-request times; the median and the 90th percentile over
the samples are shown. Beside them, ``python -X importtime`` sums (the modules' own times, median
of 5 runs) split the import of the provider's Lambda handler from that of the verifier
(``from tessera import Verifier``), with the packages that weigh most in each.

Standalone: ``python bench/lambda_cold_start.py [--quick]``; from ``bench/run.py``: ``run(args)``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from moto_server import moto_server  # noqa: E402
from tessera.issue.clients import register_client  # noqa: E402
from tessera.issue.endpoints.client_auth import hash_client_secret  # noqa: E402
from tessera.issue.hosting.lambda_handler import provider_from_environment  # noqa: E402
from tessera.store import ClientRecord  # noqa: E402
from tessera.store.url import migrate_store  # noqa: E402
from timing import importtime  # noqa: E402

SECRET = "svc-secret-" + "c" * 40

CHILD = """
import time
started = time.perf_counter()
import base64, json, sys
from tessera.issue.hosting.lambda_handler import handler
imported = time.perf_counter()
IMPORTED = set(sys.modules)
modules_imported = len(sys.modules)
basic = base64.b64encode(("svc:" + sys.argv[1]).encode()).decode()
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/token", "rawQueryString": "",
    "headers": {"host": "id.example.test", "content-type": "application/x-www-form-urlencoded",
                "authorization": "Basic " + basic},
    "requestContext": {"http": {"method": "POST", "path": "/token", "protocol": "HTTP/1.1",
                                "sourceIp": "192.0.2.7"},
                       "requestId": "r1", "routeKey": "$default", "stage": "$default"},
    "body": "grant_type=client_credentials", "isBase64Encoded": False,
}
answer = handler(event, None)
answered = time.perf_counter()
print(json.dumps({"status": answer["statusCode"], "import_ms": (imported - started) * 1e3,
                  "first_request_ms": (answered - imported) * 1e3,
                  "total_ms": (answered - started) * 1e3,
                  "modules_imported": modules_imported, "modules_answered": len(sys.modules),
                  "boto3_on_import": "boto3" in IMPORTED}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark (prefixed ``--coldstart-``)."""
    parser.add_argument("--coldstart-samples", type=int, default=11, help="fresh processes")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the fresh processes; the raw samples."""
    samples = 3 if getattr(args, "quick", False) else args.coldstart_samples
    data: dict[str, Any] = {
        "uptime_before": _uptime(),
        "load_before": os.getloadavg()[0],
        "samples": [],
        "problems": [],
    }
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="tessera-coldstart-") as root:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TESSERA_ISSUER": "https://id.example.test",
            "TESSERA_DATA": root,
            "TESSERA_STORE": f"dynamodb://tessera-coldstart?region=us-east-1&endpoint_url={endpoint}",
            "TESSERA_SMTP_HOST": "smtp.example.test",
            "TESSERA_MAIL_FROM": "tessera@example.test",
        }
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        migrate_store(env["TESSERA_STORE"])
        provider = provider_from_environment(env)
        client = ClientRecord(
            client_id="svc",
            auth_methods=("client_secret_basic",),
            secret_hash=hash_client_secret(SECRET),
            grant_types=("client_credentials",),
            scopes=("demo:read",),
        )
        register_client(provider.store, client)
        provider.outgoing.stop()
        for _ in range(samples):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, SECRET],
                check=False,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if done.returncode != 0:
                data["problems"].append(f"child failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            sample = json.loads(done.stdout.strip().splitlines()[-1])
            if sample["status"] != 200:
                data["problems"].append(f"first request answered {sample['status']}")
            data["samples"].append(sample)
    runs = 2 if getattr(args, "quick", False) else 5
    data["importtime"] = {
        "provider (tessera.issue.hosting.lambda_handler)": importtime(
            "import tessera.issue.hosting.lambda_handler", runs
        ),
        "verifier (from tessera import Verifier)": importtime("from tessera import Verifier", runs),
    }
    data["load_after"] = os.getloadavg()[0]
    data["uptime_after"] = _uptime()
    return data


def _uptime() -> str:
    one, five, fifteen = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return f"{stamp}, load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered)) - 1))]


def report(data: dict[str, Any]) -> str:
    """The markdown for ``data``."""
    samples = data["samples"]
    lines = [
        f"{len(samples)} fresh processes on {os.cpu_count()} CPUs. Before: {data['uptime_before']}. "
        f"After: {data['uptime_after']}.",
        "",
        "| phase | median ms | p90 ms | min ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    phases = (
        ("import_ms", "import of the handler"),
        ("first_request_ms", "first /token (DynamoDB on moto)"),
        ("total_ms", "import + first /token"),
    )
    for key, label in phases:
        values = [sample[key] for sample in samples]
        if values:
            lines.append(
                f"| {label} | {statistics.median(values):.1f} | {_p90(values):.1f} "
                f"| {min(values):.1f} | {max(values):.1f} |"
            )
    if samples:
        first = samples[0]
        boto3 = "on import" if first["boto3_on_import"] else "with the first request"
        lines += [
            "",
            f"Modules loaded: {first['modules_imported']} after the import, "
            f"{first['modules_answered']} after the first answer (boto3 {boto3}).",
        ]
    lines += [
        "",
        "`python -X importtime` (sum of the modules' own times, median of the runs, min-max):",
        "",
        "| import | ms | min-max | modules | heaviest packages (ms) |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for label, row in data.get("importtime", {}).items():
        heaviest = ", ".join(f"{name} {ms:.1f}" for name, ms in row["top_packages_ms"].items())
        lines.append(
            f"| {label} | {row['total_ms']:.1f} | {row['min_ms']:.1f}-{row['max_ms']:.1f} "
            f"| {row['modules']} | {heaviest} |"
        )
    if data["problems"]:
        lines += ["", "### Problems", "", *[f"- {problem}" for problem in data["problems"]]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """Measure and return (markdown, raw data)."""
    data = measure(args)
    return report(data), data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 processes: a smoke run")
    add_arguments(parser)
    markdown, data = run(parser.parse_args())
    print(f"## Lambda handler cold start\n\n{markdown}")
    sys.exit(1 if data["problems"] else 0)


if __name__ == "__main__":
    main()
