"""deploy/gcp: the provider served by the real functions-framework on 127.0.0.1, on PostgreSQL.

The same entry point Cloud Run or Cloud Functions (2nd gen) runs, over real HTTP; the store is
the Cloud SQL for PostgreSQL stand-in, a throwaway PostgreSQL cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera.encoding import b64url_encode
from tessera.keys.sealing import MasterKey
from tests.store.servers import free_port

from .conftest import MailSink, provider_env, store_for
from .flow import EMAIL, run_flow

ROOT = Path(__file__).resolve().parents[2]
GCP = ROOT / "deploy" / "gcp"


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"functions-framework exited with {process.returncode}")
        try:
            httpx.get(f"{url}/.well-known/openid-configuration", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("functions-framework did not start serving")


def test_sign_in_and_tokens_through_functions_framework(
    request: pytest.FixtureRequest, tmp_path: Path, mail_sink: MailSink
) -> None:
    binary = shutil.which("functions-framework", path=str(Path(sys.executable).parent))
    assert binary is not None, "functions-framework comes with the dev extra"
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = b64url_encode(MasterKey.generate().derive("gcp", 32))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")},
        **provider_env(issuer, store_for("postgresql", request, tmp_path), mail_sink, key),
        "TESSERA_DATA": str(tmp_path / "data"),
    }
    process = subprocess.Popen(
        [
            binary,
            "--asgi",
            "--source",
            str(GCP / "main.py"),
            "--target",
            "provider",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(issuer, process)
        with httpx.Client(timeout=30) as http:
            before = len(mail_sink.messages)
            tokens = run_flow(http, issuer, lambda: mail_sink.code_for(EMAIL, after=before))
            assert tokens["token_type"] == "Bearer"
            discovery = http.get(f"{issuer}/.well-known/openid-configuration")
            assert discovery.json()["issuer"] == issuer
            missing = http.get(f"{issuer}/no-such-endpoint")
            assert missing.status_code == 404
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_cloud_run_service_describes_the_entry_point_and_cloud_sql() -> None:
    import importlib

    yaml: Any = importlib.import_module("yaml")  # PyYAML, through cfn-lint; no stubs
    service = yaml.safe_load((GCP / "service.yaml").read_text())
    assert service["kind"] == "Service"
    template = service["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert "run.googleapis.com/cloudsql-instances" in annotations
    container = template["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["TESSERA_STORE"]["valueFrom"]["secretKeyRef"]["name"]
    assert env["TESSERA_MASTER_KEY"]["valueFrom"]["secretKeyRef"]["name"]
    assert "TESSERA_ISSUER" in env and "TESSERA_SMTP_HOST" in env and "TESSERA_MAIL_FROM" in env
    assert "--target=provider" in " ".join(container["args"]) and "--asgi" in container["args"]
