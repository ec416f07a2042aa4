#!/usr/bin/env python3
"""Cold start of the provider's Lambda handler on DynamoDB (moto's server).

Each sample is a fresh Python process (``.pyc`` caches warm, as in a Lambda container image):
it imports ``tessera.issue.hosting.lambda_handler``, then answers one client_credentials ``/token``
API Gateway v2 event, which opens the store (boto3 client), loads the keys and signs. The
process reports its import and first-request times; medians over the samples are shown.

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
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from tests.store.servers import moto_server  # noqa: E402

from tessera.issue.clients import register_client  # noqa: E402
from tessera.issue.endpoints.client_auth import hash_client_secret  # noqa: E402
from tessera.issue.hosting.lambda_handler import provider_from_environment  # noqa: E402
from tessera.store import ClientRecord  # noqa: E402
from tessera.store.url import migrate_store  # noqa: E402

SECRET = "svc-secret-" + "c" * 40

CHILD = """
import time
started = time.perf_counter()
import base64, json, sys
from tessera.issue.hosting.lambda_handler import handler
imported = time.perf_counter()
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
                  "first_request_ms": (answered - imported) * 1e3}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark (prefixed ``--coldstart-``)."""
    parser.add_argument("--coldstart-samples", type=int, default=11, help="fresh processes")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the fresh processes; the raw samples."""
    samples = 3 if getattr(args, "quick", False) else args.coldstart_samples
    data: dict[str, Any] = {"load_before": os.getloadavg()[0], "samples": [], "problems": []}
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
    data["load_after"] = os.getloadavg()[0]
    return data


def report(data: dict[str, Any]) -> str:
    """The markdown for ``data``."""
    samples = data["samples"]
    lines = [
        f"{len(samples)} fresh processes; load average {data['load_before']:.1f} before, "
        f"{data['load_after']:.1f} after, on {os.cpu_count()} CPUs.",
        "",
        "| phase | median ms | min ms | max ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label in (("import_ms", "import"), ("first_request_ms", "first /token (DynamoDB on moto)")):
        values = [sample[key] for sample in samples]
        if values:
            lines.append(
                f"| {label} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} |"
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
