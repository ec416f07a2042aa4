"""docs/security.md names every PWL and WEB case of the security catalogue, each with tests that
exist or a reason it does not apply.

The catalogue lives outside the repository, so its case ids are copied here.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
CASES = (*(f"PWL-{n:02d}" for n in range(1, 38)), *(f"WEB-{n:02d}" for n in range(1, 19)))
_ROW = re.compile(r"^\| (?P<case>(?:PWL|WEB)-\d\d) \|(?P<rest>.*)$", re.MULTILINE)
_TEST = re.compile(r"`(?P<file>tests/[\w/]+\.py)::(?P<name>test_\w+)`")


def _rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for match in _ROW.finditer(DOC.read_text()):
        rows.setdefault(match["case"], []).append(match["rest"])
    return rows


@cache
def _test_names(file: str) -> frozenset[str]:
    tree = ast.parse((ROOT / file).read_text())
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    )


def test_every_case_has_one_row() -> None:
    rows = _rows()
    assert sorted(rows) == sorted(CASES)
    assert all(len(found) == 1 for found in rows.values()), [c for c, f in rows.items() if len(f) > 1]


def test_every_case_names_tests_or_why_it_does_not_apply() -> None:
    for case, (rest,) in _rows().items():
        assert _TEST.search(rest) or "Does not apply:" in rest, case


def test_every_named_test_exists() -> None:
    named = _TEST.findall(DOC.read_text())
    assert len(named) > len(CASES)
    missing = [
        f"{file}::{name}"
        for file, name in named
        if not (ROOT / file).is_file() or name not in _test_names(file)
    ]
    assert missing == []
