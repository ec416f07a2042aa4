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


def test_a_bare_word_issuer_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    token = LocalIssuer(url="https://id.example").mint()
    assert main(["token", "verify", token, "--issuer", "myissuer"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --issuer 'myissuer' is a bare word, not a URL")
    assert "://myissuer" not in err
    assert len(err.splitlines()) == 1


def test_a_missing_and_an_unreadable_jwks_file_are_told_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = LocalIssuer(url="https://id.example").mint()
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "a-directory").mkdir()
    messages = []
    for name in ("missing.json", "a-directory", "bad.json"):
        path = str(tmp_path / name)
        assert main(["token", "verify", token, "--issuer", "https://id.example", "--jwks", path]) == 2
        messages.append(capsys.readouterr().err)
    assert messages[0] == f"error: there is no JWKS file {str(tmp_path / 'missing.json')!r}\n"
    assert messages[1].startswith(f"error: cannot read the JWKS file {str(tmp_path / 'a-directory')!r}: ")
    assert messages[2] == f"error: the JWKS file {str(tmp_path / 'bad.json')!r} is not JSON\n"


def test_an_issuer_differing_by_a_trailing_slash_gets_a_hint(
    local_issuer: LocalIssuer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "jwks.json"
    bundle.write_text(json.dumps(local_issuer.jwks()))
    token = local_issuer.mint()
    args = ["token", "verify", token, "--jwks", str(bundle), "--issuer"]
    assert main([*args, local_issuer.issuer + "/"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["reason"] == "wrong_issuer"
    assert err == (
        f"hint: the token's iss is {local_issuer.issuer!r}: --issuer must match it exactly,"
        " trailing slash included\n"
    )
    assert main([*args, "https://elsewhere.example"]) == 1
    assert capsys.readouterr().err == ""  # a different issuer is just wrong: no hint
    assert main([*args, local_issuer.issuer]) == 0


def test_a_closed_pipe_is_no_traceback(local_issuer: LocalIssuer) -> None:
    token = local_issuer.mint(sub="x" * 100_000)  # more than a pipe buffer of output
    command = [sys.executable, "-m", "tessera.cli", "token", "verify", "-", "--issuer", local_issuer.issuer]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdin is not None
        process.stdin.write(token.encode())
        process.stdin.close()
        assert process.stdout is not None
        assert process.stdout.read(1) == b"{"
        process.stdout.close()
        assert process.stderr is not None
        err = process.stderr.read().decode()
    assert process.returncode == 1
    assert err == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"tessera {version('tessera-auth')}\n"
