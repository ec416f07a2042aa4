"""The README's pytest example runs as written, with the plugin's own ``local_issuer`` fixture."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _fixture_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Test with the pytest fixtures", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_readme_fixture_example_passes(tmp_path: Path) -> None:
    (tmp_path / "test_example.py").write_text(_fixture_example())
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
