"""Markdown tables for one run of the verify benchmark."""

from __future__ import annotations

from typing import Any

from timing import fmt
from verify_adapters import FLOOR


def _warm_tables(res: dict[str, Any]) -> list[str]:
    lines = []
    fixtures = res["fixtures"]
    for alg, python_rows in res["warm"].items():
        rows = dict(python_rows)
        rows.update({f"[node] {k}": v for k, v in res.get("node_warm", {}).get(alg, {}).items()})
        floor, floor_min = rows[FLOOR.name]["median_us"], rows[FLOOR.name]["min_us"]
        lines += [
            f"\n### {alg} ({fixtures[alg]['desc']}, payload {fixtures[alg]['payload_bytes']} B, "
            f"token {fixtures[alg]['token_bytes']} B)\n",
            "| verifier | µs/verify (median) | min – max of rounds | × floor | × floor, fastest rounds |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in sorted(rows.items(), key=lambda kv: kv[1]["median_us"]):
            label = f"**{name}**" if name.startswith("Tessera") else name
            lines.append(
                f"| {label} | {fmt(row['median_us'])} | {fmt(row['min_us'])} – {fmt(row['max_us'])} "
                f"| {row['median_us'] / floor:.2f} | {row['min_us'] / floor_min:.2f} |"
            )
    return lines


def _cold_tables(res: dict[str, Any]) -> list[str]:
    lines = []
    early_calls = res["meta"]["early_calls"]
    for alg, table in res.get("cold", {}).items():
        runs = next(iter(table.values()))["runs"]
        lines += [
            f"\n### Cold start, {alg} (medians; {runs} fresh processes per command)\n",
            "| command | import ms | key load ms | first verify ms | in-process total ms "
            f"| process wall ms (min – max) | wall − bare ms | µs/verify, calls 2–{early_calls + 1} |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in table.items():
            label = f"**{name}**" if name.startswith("Tessera") else name
            lines.append(
                f"| {label} | {fmt(row['import_ms'])} | {fmt(row['key_load_ms'], 2)} | "
                f"{fmt(row['first_verify_ms'], 2)} | {fmt(row['in_process_ms'])} | "
                f"{fmt(row['wall_ms'])} ({fmt(row['wall_min_ms'])} – {fmt(row['wall_max_ms'])}) | "
                f"{fmt(row['added_wall_ms'])} | {fmt(row['early_us'])} |"
            )
    return lines


def _importtime_table(res: dict[str, Any]) -> list[str]:
    if not res.get("importtime"):
        return []
    lines = [
        "\n### python -X importtime (sum of self times; median)\n",
        "| imports of | total ms | min – max of processes | modules | heaviest packages (ms) |",
        "|---|---:|---:|---:|---|",
    ]
    for name, row in res["importtime"].items():
        top = ", ".join(f"{k} {v:.1f}" for k, v in row["top_packages_ms"].items())
        lines.append(
            f"| {name} | {fmt(row['total_ms'])} | {fmt(row['min_ms'])} – {fmt(row['max_ms'])} "
            f"| {row['modules']} | {top} |"
        )
    return lines


def render(res: dict[str, Any]) -> str:
    """The report: targets, warm tables, cold start, importtime, rejection checks, versions."""
    meta = res["meta"]
    lines = [
        f"Run of {meta['started']} on {meta['machine']}; {meta['duration_s']} s, load average "
        f"{meta['loadavg_at_start'][0]:.2f} at start, {meta['loadavg_at_end'][0]:.2f} at end.",
        "\nµs/verify is the median of interleaved timing rounds; × floor divides medians (the targets use"
        " it); × floor, fastest rounds divides the fastest rounds, which other load on the machine disturbs"
        " least. The floor is base64url decode + json.loads + one `cryptography` signature check +"
        " exp/iss/aud compares. Tessera runs with every check on: iss, aud, exp/nbf/iat, typ at+jwt,"
        " the RFC 9068 required claims, strict base64url and JSON.",
        "\n### Targets (issue 2)\n",
        "| target | measured | met |",
        "|---|---:|:---:|",
    ]
    lines += [
        f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |" for t in res["targets"]
    ]
    lines += _warm_tables(res) + _cold_tables(res) + _importtime_table(res)
    n_checks = sum(len(cases) for libs in res["checks"].values() for cases in libs.values())
    lines.append("\n### Rejection checks\n")
    if res["problems"]:
        lines += [f"- {p}" for p in res["problems"]]
    else:
        lines.append(
            f"Every verifier accepted the valid token and rejected every bad one ({n_checks} checks)."
        )
    if res["unavailable"]:
        lines.append(f"\nNot installed, skipped: {', '.join(res['unavailable'])}.")
    if not res.get("node_warm"):
        lines.append(
            "\nNode.js peers were not run (no node, or no node/node_modules: `npm ci --prefix node`)."
        )
    lines += ["\n### Versions\n"] + [f"- {k}: {v}" for k, v in res["versions"].items()]
    return "\n".join(lines)
