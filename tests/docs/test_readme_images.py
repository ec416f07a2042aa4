"""The README's pictures exist in the repository (a moved or deleted image would show as broken)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_IMAGE = re.compile(r'<img src="([^"]+)"|!\[[^\]]*\]\(([^)\s]+)')


def test_every_image_of_the_readme_is_in_the_repository() -> None:
    found = [a or b for a, b in _IMAGE.findall((ROOT / "README.md").read_text())]
    assert "docs/images/signin.png" in found
    for image in found:
        assert (ROOT / image).is_file(), image
