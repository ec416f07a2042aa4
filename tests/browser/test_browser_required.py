"""Without Chromium the browser tests skip on a workstation and fail in CI, never pass silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import require_browser


def test_a_missing_browser_fails_in_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        require_browser(tmp_path / "chromium", {"CI": "true"})


def test_a_missing_browser_skips_elsewhere_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_browser(tmp_path / "chromium", {})


def test_a_present_browser_is_used_in_ci_too(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.touch()
    assert require_browser(present, {"CI": "true"}) == present
