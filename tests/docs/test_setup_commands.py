"""``make dev`` installs only what ``tessera dev`` needs; ``make test`` (the CI path) installs the rest.

The Makefile runs in a scratch copy of the repository whose ``scripts/bootstrap`` only records
how it was called and puts stand-in tools in ``.venv/bin``, so the stamp logic is exercised for
real without installing anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_BOOTSTRAP = """#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
echo "bootstrap ${1:-dev}" >> calls.log
mkdir -p .venv/bin
for tool in tessera ruff mypy pytest; do
    printf '#!/bin/sh\\necho "%s $*" >> calls.log\\n' "$tool" > ".venv/bin/$tool"
    chmod +x ".venv/bin/$tool"
done
"""


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "node").mkdir()
    shutil.copy(ROOT / "node" / "package-lock.json", tmp_path / "node" / "package-lock.json")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "bootstrap").write_text(FAKE_BOOTSTRAP)
    (tmp_path / "calls.log").write_text("")
    return tmp_path


def _make(scratch: Path, target: str) -> list[str]:
    """Run ``make target``; the calls it made (bootstrap and tools) since the last run."""
    subprocess.run(["make", "-s", target], cwd=scratch, check=True, capture_output=True, timeout=60)
    calls = (scratch / "calls.log").read_text().splitlines()
    (scratch / "calls.log").write_text("")
    return calls


def test_make_dev_installs_the_idp_extra_only_and_make_test_the_rest(scratch: Path) -> None:
    assert _make(scratch, "dev") == ["bootstrap idp", "tessera dev"]
    assert _make(scratch, "dev") == ["tessera dev"]  # installed once
    assert _make(scratch, "test") == [
        "bootstrap dev",
        "ruff check",
        "ruff format --check",
        "mypy ",
        "pytest ",
    ]
    assert _make(scratch, "test") == ["ruff check", "ruff format --check", "mypy ", "pytest "]
    assert _make(scratch, "dev") == ["tessera dev"]  # the full install covers it


def test_a_changed_pyproject_reinstalls_for_either_target(scratch: Path) -> None:
    _make(scratch, "test")
    later = (scratch / "pyproject.toml").stat().st_mtime + 10
    os.utime(scratch / "pyproject.toml", (later, later))
    assert _make(scratch, "dev") == ["bootstrap idp", "tessera dev"]
    assert _make(scratch, "test")[0] == "bootstrap dev"


def test_the_real_bootstrap_knows_both_installs() -> None:
    script = (ROOT / "scripts" / "bootstrap").read_text()
    assert '-e ".[$extra]"' in script
    refused = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap"), "everything"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "usage: scripts/bootstrap [idp|dev]" in refused.stderr
