"""Timing primitives shared by the benchmarks: interleaved warm rounds, fresh processes, importtime.

Warm figures are medians of interleaved rounds (every case timed once per round, in a rotating
order) so that machine drift hits every case alike. Fresh-process figures come from child
interpreters that may write and reuse ``.pyc`` files, as a deployed function does.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

__all__ = ["bench_interleaved", "child_env", "fmt", "importtime", "median_or_none", "timed_run"]


def _calibrate(timer: timeit.Timer, target_s: float) -> int:
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= target_s / 4:
            return max(1, int(number * target_s / elapsed))
        number *= 4 if elapsed < target_s / 40 else 2


def _warm_up(timer: timeit.Timer, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        timer.timeit(10)


def bench_interleaved(
    cases: dict[str, Callable[[], object]], rounds: int, target_s: float, warmup_s: float = 1.0
) -> dict[str, dict[str, float]]:
    """Warm each case up, size its loop to ~``target_s``, then time ``rounds`` interleaved rounds.

    Returns, per case, the median, min and max µs per call over the rounds.
    """
    timers = {name: timeit.Timer(fn) for name, fn in cases.items()}
    for timer in timers.values():
        _warm_up(timer, warmup_s)
    numbers = {name: _calibrate(timer, target_s) for name, timer in timers.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(timers[name].timeit(numbers[name]) / numbers[name] * 1e6)
    return {
        name: {
            "median_us": statistics.median(s),
            "min_us": min(s),
            "max_us": max(s),
            "rounds": rounds,
            "loops": numbers[name],
        }
        for name, s in samples.items()
    }


def child_env() -> dict[str, str]:
    """The environment for fresh processes: bytecode caching on, as in a deployed function."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed_run(argv: list[str]) -> tuple[float, str]:
    """Run ``argv`` to completion; return (wall seconds, stdout). Raise if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=child_env(), check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]}... failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.stdout


def importtime(code: str, runs: int) -> dict[str, Any]:
    """Sum of the 'self' times ``python -X importtime`` reports for ``code``'s imports (median)."""
    marker = "@@bench-importtime@@"
    source = f"import sys; sys.stderr.write({marker!r} + '\\n'); sys.stderr.flush()\n{code}"
    totals: list[float] = []
    per_package_runs: list[dict[str, int]] = []
    module_counts: list[int] = []
    for i in range(runs + 1):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", source],
            capture_output=True,
            text=True,
            check=True,
            env=child_env(),
        )
        per_package: dict[str, int] = {}
        total = modules = 0
        for line in proc.stderr.split(marker, 1)[1].splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = (x.strip() for x in line[len("import time:") :].split("|"))
            total += int(self_us)
            modules += 1
            top = name.split(".")[0]
            per_package[top] = per_package.get(top, 0) + int(self_us)
        if i:  # the first run is a warm-up (page cache, .pyc files)
            totals.append(total / 1e3)
            per_package_runs.append(per_package)
            module_counts.append(modules)
    typical_run = totals.index(sorted(totals)[len(totals) // 2])
    typical = per_package_runs[typical_run]
    heaviest = sorted(typical.items(), key=lambda kv: -kv[1])[:4]
    return {
        "total_ms": statistics.median(totals),
        "min_ms": min(totals),
        "max_ms": max(totals),
        "modules": module_counts[typical_run],
        "top_packages_ms": {k: v / 1e3 for k, v in heaviest},
    }


def median_or_none(values: list[float | None]) -> float | None:
    """The median of the values that are not None, or None."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(x: float | None, digits: int = 1) -> str:
    """A table cell: the number with ``digits`` decimals, or n/a."""
    return "n/a" if x is None else f"{x:,.{digits}f}"
