"""``tessera dev``'s server settings (the process itself is driven in tests/issue/test_dev_process.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tessera.cli import main as cli_main
from tessera.issue.serving import KEEP_ALIVE_SECONDS, BoundedHttpProtocol


def test_dev_bounds_request_reads_leaves_x_forwarded_for_to_trusted_proxies_names_no_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    assert cli_main(["dev", "--data", str(tmp_path / "data"), "--port", "8765"]) == 0
    assert started["proxy_headers"] is False
    assert started["server_header"] is False
    assert started["http"] is BoundedHttpProtocol
    assert started["timeout_keep_alive"] == KEEP_ALIVE_SECONDS
    assert (started["host"], started["port"]) == ("127.0.0.1", 8765)
    assert started["app"].state.provider.settings.trusted_proxies == ()
    assert "http://127.0.0.1:8765" in capsys.readouterr().out


def test_dev_refuses_a_non_loopback_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: pytest.fail("must not start"))
    assert cli_main(["dev", "--data", str(tmp_path / "data"), "--host", "0.0.0.0"]) == 2


def test_dev_workers_share_the_data_directory_through_an_app_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.issue.dev import DEV_DATA_ENV, DEV_ISSUER_ENV, DEV_WORKERS_ENV, app_from_environment

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    monkeypatch.setenv(DEV_DATA_ENV, "set by the command")  # restored after the test
    monkeypatch.setenv(DEV_ISSUER_ENV, "set by the command")
    monkeypatch.setenv(DEV_WORKERS_ENV, "set by the command")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    data = tmp_path / "data"
    assert cli_main(["dev", "--data", str(data), "--port", "8766", "--workers", "2"]) == 0
    assert (started["app"], started["factory"], started["workers"]) == (
        "tessera.issue.dev:app_from_environment",
        True,
        2,
    )
    assert started["proxy_headers"] is False
    assert started["http"] is BoundedHttpProtocol
    worker_app = app_from_environment()
    provider = worker_app.state.provider
    assert provider.settings.issuer == "http://127.0.0.1:8766"
    assert provider.settings.work_in_thread is True  # a worker serves many connections too
    assert provider.store.get_client("dev-service") is not None
    assert {k["kid"] for k in provider.keys.jwks()["keys"]} == set(
        provider.keys.records()[s].kid for s in ("previous", "current", "next")
    )
    assert cli_main(["dev", "--data", str(data), "--workers", "0"]) == 2
