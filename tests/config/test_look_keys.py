"""``[provider] logo`` and ``templates``: read relative to the file, checked by ``tessera config check``,
refused by ``tessera dev`` with the same diagnostic, and read from the environment by the cloud reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.cli import main
from tessera.config import ConfigFileError, read_config
from tessera.errors import ConfigurationError
from tessera.issue.dev.provider import check_dev_config
from tessera.issue.hosting.environment import provider_from_environment

from .conftest import WriteConfig
from .sample import line_of, replaced


def _with(setting: str) -> str:
    return replaced('name = "Orders"', f'name = "Orders"\n{setting}')


def test_relative_paths_are_read_from_the_files_folder(write_config: WriteConfig, tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    config = read_config(write_config(_with('templates = "pages"\nlogo = "logo.svg"')))
    assert config.templates() == tmp_path / "pages"
    assert config.logo() == str(tmp_path / "logo.svg")
    url = read_config(write_config(_with('logo = "https://cdn.example.com/logo.png"')))
    assert url.logo() == "https://cdn.example.com/logo.png"


def test_config_check_reports_a_missing_templates_folder_on_its_line(
    write_config: WriteConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _with('templates = "pages"')
    path = write_config(text)
    assert main(["config", "check", str(path)]) == 2
    _, err = capsys.readouterr()
    line = line_of(text, "templates")
    assert err.strip() == (
        f"{path}:{line}: provider.templates: the templates folder {tmp_path / 'pages'} does not exist"
    )
    (tmp_path / "pages").mkdir()
    assert main(["config", "check", str(path)]) == 0
    assert capsys.readouterr().err == ""


def test_config_check_reports_a_logo_that_cannot_be_shown(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _with('logo = "brand/logo.bmp"')
    path = write_config(text)
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}:{line_of(text, 'logo')}: provider.logo: ")
    assert "must be one of .gif, .jpeg, .jpg, .png, .svg, .webp" in err


def test_tessera_dev_refuses_a_missing_folder_with_the_same_diagnostic(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    config = read_config(write_config(_with('templates = "pages"')))
    with pytest.raises(ConfigFileError, match=r"provider\.templates: the templates folder"):
        check_dev_config(config, "http://127.0.0.1:8000")
    (tmp_path / "pages").mkdir()
    check_dev_config(config, "http://127.0.0.1:8000")


def test_the_cloud_reader_takes_name_logo_and_templates_from_the_environment(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    env = {
        "TESSERA_ISSUER": "https://id.example.test",
        "TESSERA_DATA": str(tmp_path / "data"),
        "TESSERA_SMTP_HOST": "smtp.example.test",
        "TESSERA_MAIL_FROM": "tessera@example.test",
        "TESSERA_PROVIDER_NAME": "Orders",
        "TESSERA_LOGO": "https://cdn.example.com/logo.png",
        "TESSERA_TEMPLATES": str(folder),
    }
    provider = provider_from_environment(env)
    try:
        settings = provider.settings
        assert (settings.name, settings.logo, settings.templates) == (
            "Orders",
            "https://cdn.example.com/logo.png",
            folder,
        )
    finally:
        provider.outgoing.stop()
        provider.store.close()
    with pytest.raises(ConfigurationError, match="templates folder"):
        provider_from_environment({**env, "TESSERA_TEMPLATES": str(tmp_path / "missing")})
