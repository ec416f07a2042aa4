#!/usr/bin/env python3
"""Where a default ``tessera dev``'s ``/token`` time goes, under load: py-spy over the server process.

Starts one single-process ``tessera dev`` (SQLite, fresh data directory), seeds refresh chains by
real sign-ins, then for each grant drives ``/token`` with ``loadgen.py`` at ``--clients`` clients
while ``py-spy record`` samples every thread of the server (``--idle`` off: only samples of
running code count; the GIL-holding ones are counted apart with ``--gil``). The collapsed stacks
are grouped into components (HTTP parsing, Starlette, form parsing, client authentication, JWT
signing, SQLite, the thread hop, audit, JSON, ...) by the innermost frame that names one, and
printed as percent of samples.

``python bench/token_profile.py [--seconds 10] [--clients 8] [--keep DIR]``; needs ``py-spy``
(``pip install py-spy``; not a project dependency) and ptrace rights over a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from tests.interop.tessera_op import tessera_op  # noqa: E402

from loadgen import basic_auth  # noqa: E402
from token_endpoint_bench import _loadgen, _seed_chains  # noqa: E402

# (component, substrings of a frame "function (file)"): the first component, walking from the
# innermost frame outwards, that matches a frame of the sample gets the sample.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("RSA/EC signing (cryptography)", ("(tessera/keys/signing.py", "(cryptography/")),
    ("SQLite (sqlite3 calls)", ("execute (", "fetchone", "fetchall", "(tessera/store/sqlite")),
    ("audit logging", ("(tessera/issue/audit.py", "(logging/")),
    ("JSON encode/decode", ("(json/",)),
    ("hashing, randomness", ("(hashlib", "token_urlsafe", "compare_digest", "(secrets.py")),
    ("client authentication (other)", ("(tessera/issue/endpoints/client_auth.py",)),
    ("rate limiter", ("(tessera/issue/ratelimit.py",)),
    (
        "grant logic",
        (
            "(tessera/issue/endpoints/grants.py",
            "(tessera/issue/endpoints/token.py",
            "(tessera/issue/provider.py",
            "(tessera/issue/tokens.py",
            "(tessera/issue/resources.py",
            "(tessera/issue/subjects.py",
            "(tessera/keys/",
        ),
    ),
    ("form parsing", ("read_form", "split_params", "parse_params", "(urllib/parse.py")),
    ("response building", ("(starlette/responses.py", "json_response", "oauth_error")),
    (
        "thread hop (executor, futures)",
        (
            "(concurrent/futures",
            "(asyncio/futures",
            "run_in_executor",
            "(tessera/issue/offload.py",
            "(threading.py",
            "(queue.py",
        ),
    ),
    (
        "Starlette routing and middleware",
        ("(starlette/", "(tessera/issue/cors.py", "(tessera/issue/hosts.py", "(tessera/issue/app.py"),
    ),
    ("uvicorn HTTP (httptools protocol)", ("(uvicorn/", "(tessera/issue/hosting/serving.py", "(httptools")),
    ("event loop (uvloop/asyncio)", ("(asyncio/", "(uvloop", "run (")),
)


def component(stack: list[str]) -> str:
    """The component of one sampled stack (frames outermost first)."""
    for frame in reversed(stack):
        for name, needles in COMPONENTS:
            if any(needle in frame for needle in needles):
                return name
    return "other (interpreter, native)"


def summarise(collapsed: Path) -> tuple[int, Counter[str]]:
    """(samples, samples per component) of a py-spy ``--format raw`` file."""
    counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack_text, _, number = line.rpartition(" ")
        if not stack_text or not number.isdigit():
            continue
        frames = stack_text.split(";")
        if frames and frames[0].startswith(("process ", "thread ")):
            frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        counts[component(frames)] += int(number)
        total += int(number)
    return total, counts


def _record(pid: int, seconds: float, out: Path, gil: bool) -> subprocess.Popen[bytes]:
    command = [
        "py-spy",
        "record",
        "-p",
        str(pid),
        "-d",
        str(int(seconds)),
        "-r",
        "200",
        "--format",
        "raw",
        "-o",
        str(out),
        "--threads",
        "--nonblocking",
    ]
    if gil:
        command.append("--gil")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def profile(args: argparse.Namespace) -> dict[str, Any]:
    """Run both grants under py-spy; returns {grant: {"all"|"gil": (samples, counts), "load": ...}}."""
    keep = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="token-profile-"))
    keep.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with tessera_op() as op:
        pid = _server_pid(op.issuer)
        chains = _seed_chains(op, args.clients)
        token_url = op.discovery()["token_endpoint"]
        for grant in ("client_credentials", "refresh_token"):
            results[grant] = {}
            for mode in ("all", "gil"):
                out = keep / f"{grant}-{mode}.txt"
                if grant == "client_credentials":
                    job: dict[str, Any] = {
                        "kind": "fixed",
                        "url": token_url,
                        "method": "POST",
                        "headers": {
                            "Content-Type": "application/x-www-form-urlencoded",
                            "Authorization": basic_auth(op.service_client_id, op.service_client_secret),
                        },
                        "body": f"grant_type=client_credentials&scope={op.service_scope}",
                    }
                else:
                    job = {
                        "kind": "refresh",
                        "url": token_url,
                        "form": {"client_id": op.public_client_id},
                        "refresh_tokens": chains,
                    }
                job.update(
                    clients=args.clients, seconds=args.seconds + 1, max_requests=10**7, warmup_seconds=0.5
                )
                outcome: dict[str, Any] = {}
                runner = threading.Thread(
                    target=lambda job=job, outcome=outcome: outcome.update(_loadgen(job))
                )
                runner.start()
                recorder = _record(pid, args.seconds, out, gil=(mode == "gil"))
                recorder.wait()
                runner.join()
                if grant == "refresh_token":
                    chains = outcome.pop("refresh_tokens")
                results[grant][mode] = summarise(out)
                results[grant][f"load_{mode}"] = {k: outcome.get(k) for k in ("rps", "p50_ms", "errors")}
    print(f"raw stacks kept in {keep}", file=sys.stderr)
    return results


def _server_pid(issuer: str) -> int:
    port = issuer.rsplit(":", 1)[1]
    listing = subprocess.run(
        ["ss", "-ltnp", f"sport = :{port}"], check=True, capture_output=True, text=True
    ).stdout
    for part in listing.split("pid=")[1:]:
        return int(part.split(",", 1)[0])
    raise SystemExit(f"no process listens on {issuer}")


def report(results: dict[str, Any]) -> str:
    """A markdown table: percent of samples per component, per grant, all threads and GIL holders."""
    grants = list(results)
    names = [name for name, _ in COMPONENTS] + ["other (interpreter, native)"]
    header = ["component"] + [f"{g} {m}" for g in grants for m in ("all threads", "GIL held")]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for name in names:
        cells = []
        for grant in grants:
            for mode in ("all", "gil"):
                total, counts = results[grant][mode]
                cells.append(f"{100 * counts[name] / total:.1f}" if total else "n/a")
        lines.append("| " + " | ".join([name, *cells]) + " |")
    for grant in grants:
        for mode in ("all", "gil"):
            load = results[grant][f"load_{mode}"]
            lines.append(
                f"\n{grant} ({mode}): {load['rps']:.0f} req/s under py-spy, "
                f"p50 {load['p50_ms']:.1f} ms, errors {load['errors']}; "
                f"{results[grant][mode][0]} samples"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keep", help="folder for the raw py-spy stacks (default: a temporary one)")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed (pip install py-spy)")
    os.environ.setdefault("TESSERA_DEV_SERVICE_SECRET", secrets.token_urlsafe(32))
    results = profile(args)
    print(report(results))
    print(
        json.dumps({g: {m: dict(results[g][m][1]) for m in ("all", "gil")} for g in results}), file=sys.stderr
    )


if __name__ == "__main__":
    main()
