"""``tessera jwks fetch``: bundle an issuer's JWKS at deploy time, load it later with no network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tessera import Verifier
from tessera.cli import main
from tessera.testing import LocalIssuer, Response


@pytest.fixture(autouse=True)
def _clean_registry(fresh_jwks_registry: None) -> None:
    """Every test starts with no shared key sets."""


def test_fetch_by_discovery_writes_a_bundle_that_verifies_offline(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    local_issuer.add_key("ES256")

    code = main(["jwks", "fetch", local_issuer.issuer])

    out = capsys.readouterr().out
    assert code == 0
    bundle = tmp_path / "jwks.json"
    bundle.write_text(out)
    assert {k["kid"] for k in json.loads(out)["keys"]} == {k.kid for k in local_issuer.keys}
    tokens = [local_issuer.mint(key=k) for k in local_issuer.keys]
    local_issuer.stop()  # from here on, any network call would fail
    verifier = Verifier(issuer=local_issuer.issuer, audience="api", token_type="at+jwt", jwks=str(bundle))
    assert [verifier.verify(t).subject for t in tokens] == ["user-123", "user-123"]


def test_fetch_with_an_explicit_jwks_uri_skips_discovery(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["jwks", "fetch", local_issuer.issuer, "--jwks-uri", local_issuer.jwks_uri])

    assert code == 0
    assert json.loads(capsys.readouterr().out) == local_issuer.jwks()
    assert local_issuer.server is not None
    assert local_issuer.server.count("/.well-known/openid-configuration") == 0


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("down", "error status"),
        ("garbage", "not a usable document"),
        ("no_keys", "no usable signing key"),
        ("plain_http", "not allowed"),
    ],
)
def test_fetch_failures_exit_2_with_a_clear_message_and_no_traceback(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str], setup: str, expected: str
) -> None:
    issuer = local_issuer.issuer
    if setup == "down":
        local_issuer.jwks_response = Response(500, b"oops")
    elif setup == "garbage":
        local_issuer.jwks_response = Response(200, b"<html>", {"Content-Type": "text/html"})
    elif setup == "no_keys":
        local_issuer.jwks_response = Response.json({"keys": []})
    else:
        issuer = "http://issuer.example.com"

    code = main(["jwks", "fetch", issuer])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert expected in captured.err
    assert "Traceback" not in captured.err


def test_fetch_as_a_real_subprocess(local_issuer: LocalIssuer) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "jwks", "fetch", local_issuer.issuer],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == local_issuer.jwks()
