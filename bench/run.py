#!/usr/bin/env python3
"""Run every Tessera benchmark and print its tables: ``make bench`` (``--quick`` for a smoke run).

Each benchmark is a module in this folder, registered in :data:`BENCHMARKS` by name. A module
exposes::

    def run(args: argparse.Namespace) -> str | tuple[str, dict]: ...   # markdown [, raw data]

and, optionally, ``add_arguments(parser)`` for options of its own (prefix them with the
benchmark's name). ``args.quick`` asks for a short smoke run; ``args.node_dir`` is the folder
whose ``node_modules`` holds the Node.js peers, or None when they are not installed. Results
go to stdout and to ``bench/results/`` (gitignored) as ``NAME-STAMP.md`` / ``.json`` plus
``latest.md``. A benchmark that found a correctness problem (a verifier accepted a bad token,
say) returns its report with ``data["problems"]`` listing them: the run then exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
NODE_DIR = HERE.parent / "node"

# name -> (module in bench/, what it measures). Add a line here to register a benchmark.
BENCHMARKS: dict[str, tuple[str, str]] = {
    "verify": ("verify_bench", "JWT verification: µs per verify against peers and the floor; cold start"),
    "protect": ("protect_bench", "protect overhead vs bare verify and a PyJWT tutorial authorizer"),
    "token": ("token_endpoint_bench", "token endpoint under load beside oidc-provider"),
    "coldstart": ("lambda_cold_start", "Lambda handler cold start: import + first /token on DynamoDB (moto)"),
    "store": ("store_bench", "/token and email-code sign-in on SQLite, PostgreSQL, DynamoDB (moto)"),
    "scale": ("scale_bench", "500,000 users in PostgreSQL and DynamoDB (moto): sign-in, /token"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Run Tessera's benchmarks and print markdown tables.")
    parser.add_argument("--quick", action="store_true", help="a few short rounds: a smoke run, not a result")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        choices=sorted(BENCHMARKS),
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="list the registered benchmarks and exit")
    parser.add_argument(
        "--node-dir",
        type=Path,
        default=NODE_DIR,
        help="folder whose node_modules holds the Node.js peers (default: node/)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    for name, (module_name, _) in BENCHMARKS.items():
        try:
            module = _module(module_name)
        except ImportError as exc:  # reported again, as a failure, when the benchmark runs
            _log(f"benchmark {name!r} cannot be imported: {exc}")
            continue
        add_arguments = getattr(module, "add_arguments", None)
        if add_arguments is not None:
            add_arguments(parser)
    return parser


def _module(name: str) -> Any:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module(name)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _save(results_dir: Path, name: str, stamp: str, markdown: str, data: dict[str, Any]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    md_path = results_dir / f"{name}-{stamp}.md"
    md_path.write_text(markdown + "\n", encoding="utf-8")
    (results_dir / f"{name}-{stamp}.json").write_text(
        json.dumps(data, indent=1, default=str), encoding="utf-8"
    )
    return md_path


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks in registry order; non-zero if any failed."""
    args = _parser().parse_args(argv)
    if args.list:
        for name, (module_name, what) in BENCHMARKS.items():
            print(f"{name:12} bench/{module_name}.py  {what}")
        return 0
    if not (args.node_dir / "node_modules").is_dir():
        _log(f"{args.node_dir}/node_modules not found: Node.js peers skipped (npm ci --prefix node)")
        args.node_dir = None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    selected = args.only or list(BENCHMARKS)
    sections, failed = [], []
    for name in selected:
        module_name, what = BENCHMARKS[name]
        _log(f"== {name}: {what}")
        started = time.time()
        try:
            outcome = _module(module_name).run(args)
            markdown, data = outcome if isinstance(outcome, tuple) else (outcome, {})
            if data.get("problems"):
                failed.append(name)
        except Exception:
            markdown, data = f"benchmark crashed:\n\n```\n{traceback.format_exc()}```", {}
            failed.append(name)
        elapsed = time.time() - started
        meta = {
            "benchmark": name,
            "quick": args.quick,
            "seconds": round(elapsed, 1),
            "stamp": stamp,
            "loadavg": os.getloadavg(),
        }
        section = f"## {name}{' (quick run: not a result)' if args.quick else ''}\n\n{markdown.strip()}\n"
        path = _save(args.results_dir, name, stamp, section, {"meta": meta, "data": data})
        shown = path.relative_to(HERE.parent) if path.is_relative_to(HERE.parent) else path
        _log(f"== {name}: {elapsed:.1f} s, written to {shown}")
        print(section, flush=True)
        sections.append(section)
    (args.results_dir / "latest.md").write_text("\n".join(sections), encoding="utf-8")
    if failed:
        _log(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
