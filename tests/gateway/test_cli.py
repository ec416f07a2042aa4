"""``tessera gateway`` as a process: it starts, serves real HTTP on 127.0.0.1, and stops on SIGTERM."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tessera.cli import main

from .conftest import APPS
from .http_client import send


def _write_routes(folder: Path) -> Path:
    routes = folder / "routes.json"
    routes.write_text(
        json.dumps(
            {
                "routes": [{"method": "GET", "path": "/items/{id}", "handler": "gw_echo:echo"}],
                "gateway": {"payload_version": "2.0"},
            }
        )
    )
    (folder / "gw_echo.py").write_text((APPS / "gw_echo.py").read_text())
    return routes


def test_cli_gateway_serves_and_stops(tmp_path: Path) -> None:
    routes = _write_routes(tmp_path)
    argv = [sys.executable, "-m", "tessera.cli", "gateway", "--routes", str(routes), "--port", "0", "--quiet"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            found = re.search(r"http://127\.0\.0\.1:\d+", banner)
            assert found, banner
            reply = send("GET", f"{found.group(0)}/items/5")
            assert reply.status == 200
            assert reply.json()["event"]["pathParameters"] == {"id": "5"}
            assert send("GET", f"{found.group(0)}/other").status == 404
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0


def test_cli_gateway_rejects_a_bad_routes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "routes.toml"
    bad.write_text(
        '[gateway]\npayload_version = "3.0"\n[[gateway.routes]]\nroute = "GET /x"\nhandler = "a:b"\n'
    )
    assert main(["gateway", "--routes", str(bad)]) == 2
    assert "payload_version" in capsys.readouterr().err
    assert main(["gateway", "--routes", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_gateway_request_log_never_shows_the_query_string(tmp_path: Path) -> None:
    routes = _write_routes(tmp_path)
    argv = [sys.executable, "-m", "tessera.cli", "gateway", "--routes", str(routes), "--port", "0"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            found = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
            assert found
            assert send("GET", f"{found.group(0)}/items/5?access_token=SECRET-TOKEN").status == 200
        finally:
            process.terminate()
            _, log = process.communicate(timeout=10)
    assert "GET /items/5 200" in log
    assert "SECRET-TOKEN" not in log


CHATTY_APP = """
import logging

def handler(event, context):
    logging.getLogger("framework.http").info("GET /items 200")  # as Mangum logs every request
    return {"statusCode": 200, "body": "ok"}

def deny(event, context):
    raise Exception("Unauthorized")
"""


def test_cli_gateway_logs_each_request_once_and_each_refusal_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY_APP)
    routes = tmp_path / "routes.json"
    routes.write_text(
        json.dumps(
            {
                "routes": [{"method": "GET", "path": "/items", "handler": "chatty:handler"}],
                "gateway": {
                    "payload_version": "1.0",
                    "authorizers": {"deny": {"handler": "chatty:deny", "ttl_seconds": 0}},
                    "routes": [{"route": "GET /closed", "handler": "chatty:handler", "authorizer": "deny"}],
                },
            }
        )
    )
    argv = [sys.executable, "-m", "tessera.cli", "gateway", "--routes", str(routes), "--port", "0"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            found = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
            assert found
            assert send("GET", f"{found.group(0)}/items").status == 200
            assert (
                send(
                    "GET", f"{found.group(0)}/closed", headers={"Authorization": "Bearer SECRET-TOKEN"}
                ).status
                == 401
            )
        finally:
            process.terminate()
            _, log = process.communicate(timeout=10)
    assert log.splitlines() == [
        "GET /items 200",
        "tessera.gateway refused GET /closed: unauthorized (401)",
        "GET /closed 401",
    ]
    assert "SECRET-TOKEN" not in log


def test_cli_gateway_names_a_handler_that_fails_to_import_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "needs_setting.py").write_text(
        'import os\nKEY = os.environ["ORDERS_TABLE_NOT_SET"]\n\ndef handler(event, context):\n    return {}\n'
    )
    routes = tmp_path / "routes.json"
    routes.write_text(
        json.dumps(
            {
                "routes": [{"method": "GET", "path": "/x", "handler": "needs_setting:handler"}],
                "gateway": {"payload_version": "2.0"},
            }
        )
    )
    assert main(["gateway", "--routes", str(routes), "--port", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: cannot load handler 'needs_setting:handler' (module 'needs_setting'):"
        " KeyError: 'ORDERS_TABLE_NOT_SET'\n"
    )
