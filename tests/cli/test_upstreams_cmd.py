"""``tessera upstreams list``: the configured upstreams, or a one-line error and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.cli import main as cli_main

CONFIG = """
[[upstreams]]
id = "corp"
name = "Corp SSO"
issuer = "https://login.example.com"
client_id = "tessera"
client_secret_env = "CORP_CLIENT_SECRET"
scopes = ["openid", "email", "profile"]

[[upstreams]]
id = "gh"
name = "GitHub"
preset = "github"
client_id = "Iv1.abc"
client_secret_env = "GITHUB_SECRET"
"""


def test_list_shows_each_upstream_and_its_callback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tessera.toml"
    path.write_text(CONFIG)
    assert cli_main(["upstreams", "list", "--config", str(path), "--issuer", "https://id.example.com"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "corp\tCorp SSO\toidc\thttps://login.example.com\thttps://id.example.com/upstream/corp/callback",
        "gh\tGitHub\tgithub\thttps://github.com\thttps://id.example.com/upstream/gh/callback",
    ]


def test_list_takes_the_issuer_from_the_file_then_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tessera.toml"
    path.write_text(CONFIG)
    monkeypatch.delenv("TESSERA_ISSUER", raising=False)
    assert cli_main(["upstreams", "list", "--config", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("\t/upstream/corp/callback")
    monkeypatch.setenv("TESSERA_ISSUER", "https://env.example.com/")
    assert cli_main(["upstreams", "list", "--config", str(path)]) == 0
    assert (
        capsys.readouterr().out.splitlines()[0].endswith("\thttps://env.example.com/upstream/corp/callback")
    )
    path.write_text('[provider]\nissuer = "https://file.example.com"\n' + CONFIG)
    assert cli_main(["upstreams", "list", "--config", str(path)]) == 0
    assert (
        capsys.readouterr().out.splitlines()[0].endswith("\thttps://file.example.com/upstream/corp/callback")
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[upstreams]]\nid = 'corp'\n", "issuer is required"),
        ("[[upstreams\n", "not valid TOML"),
        (CONFIG.replace('"GITHUB_SECRET"', '"GITHUB_SECRET"\nprivate_key_jwt = true'), "github takes only"),
    ],
)
def test_a_bad_file_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    path = tmp_path / "tessera.toml"
    path.write_text(text)
    assert cli_main(["upstreams", "list", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_a_missing_file_is_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["upstreams", "list", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
