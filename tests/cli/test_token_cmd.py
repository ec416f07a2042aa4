"""``tessera token inspect`` and ``tessera token verify``, with discovery and with a bundled JWKS."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tessera.cli import main
from tessera.cli.token_cmd import UNVERIFIED_BANNER
from tessera.testing import LocalIssuer


@pytest.fixture(autouse=True)
def _clean_registry(fresh_jwks_registry: None) -> None:
    """Every test starts with no shared key sets."""


def test_verify_with_discovery_prints_the_claims(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    token = local_issuer.mint(sub="alice")

    code = main(["token", "verify", token, "--issuer", local_issuer.issuer, "--audience", "api"])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["sub"] == "alice"
    assert local_issuer.server is not None
    assert local_issuer.server.count("/.well-known/openid-configuration") == 1


def test_verify_rejects_a_wrong_audience_with_exit_1_and_the_reason(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    token = local_issuer.mint()

    rejected = main(["token", "verify", token, "--issuer", local_issuer.issuer, "--audience", "billing"])
    outcome = json.loads(capsys.readouterr().out)
    accepted = main(["token", "verify", token, "--issuer", local_issuer.issuer, "--audience", "api"])

    assert rejected == 1
    assert (outcome["valid"], outcome["error"], outcome["reason"]) == (
        False,
        "invalid_token",
        "wrong_audience",
    )
    assert accepted == 0


def test_verify_with_a_bundled_jwks_uses_no_network(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bundle = tmp_path / "jwks.json"
    bundle.write_text(json.dumps(local_issuer.jwks()))
    token = local_issuer.mint(sub="bob")
    forged = LocalIssuer(url=local_issuer.issuer).mint(header={"kid": local_issuer.key.kid})
    local_issuer.stop()

    code = main(["token", "verify", token, "--issuer", local_issuer.issuer, "--jwks", str(bundle)])
    claims = json.loads(capsys.readouterr().out)
    forged_code = main(["token", "verify", forged, "--issuer", local_issuer.issuer, "--jwks", str(bundle)])

    assert (code, claims["sub"]) == (0, "bob")
    assert forged_code == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "bad_signature"


def test_verify_reads_the_token_from_stdin(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(local_issuer.mint(sub="carol") + "\n"))

    assert main(["token", "verify", "-", "--issuer", local_issuer.issuer]) == 0
    assert json.loads(capsys.readouterr().out)["sub"] == "carol"


def test_verify_when_the_issuer_is_unreachable_is_keys_unavailable(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    token = local_issuer.mint()
    local_issuer.stop()

    code = main(["token", "verify", token, "--issuer", local_issuer.issuer])

    assert code == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "keys_unavailable"


def test_inspect_prints_the_not_verified_banner(
    local_issuer: LocalIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    token = local_issuer.mint(sub="dave")

    code = main(["token", "inspect", token])

    captured = capsys.readouterr()
    assert code == 0
    assert UNVERIFIED_BANNER in captured.err
    assert "NOT VERIFIED" in captured.err
    decoded = json.loads(captured.out)
    assert decoded["verified"] is False
    assert decoded["payload"]["sub"] == "dave"
    assert decoded["header"]["kid"] == local_issuer.key.kid
    assert main(["token", "inspect", "not.a-token"]) == 2


def test_verify_as_a_real_subprocess(local_issuer: LocalIssuer) -> None:
    token = local_issuer.mint(sub="erin")
    command = [sys.executable, "-m", "tessera.cli", "token", "verify", token, "--issuer", local_issuer.issuer]

    accepted = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    rejected = subprocess.run(
        [*command, "--audience", "nope"], capture_output=True, text=True, timeout=60, check=False
    )

    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["sub"] == "erin"
    assert rejected.returncode == 1
    assert json.loads(rejected.stdout)["reason"] == "wrong_audience"
