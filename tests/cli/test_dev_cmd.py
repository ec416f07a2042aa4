"""``tessera dev``'s server settings (the process itself is driven in tests/issue/test_dev_process.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tessera.cli import main as cli_main


def test_dev_leaves_x_forwarded_for_to_trusted_proxies_and_names_no_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    assert cli_main(["dev", "--data", str(tmp_path / "data"), "--port", "8765"]) == 0
    assert started["proxy_headers"] is False
    assert started["server_header"] is False
    assert (started["host"], started["port"]) == ("127.0.0.1", 8765)
    assert started["app"].state.provider.settings.trusted_proxies == ()
    assert "http://127.0.0.1:8765" in capsys.readouterr().out


def test_dev_refuses_a_non_loopback_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: pytest.fail("must not start"))
    assert cli_main(["dev", "--data", str(tmp_path / "data"), "--host", "0.0.0.0"]) == 2
