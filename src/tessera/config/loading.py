"""Reading ``tessera.toml``: the file's checks, then the environment's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigurationError
from .diagnostics import ConfigFileError, Diagnostic
from .environment import ISSUER_ENV, apply_overrides
from .locations import CONFIG_NAME, config_path
from .model import TesseraConfig
from .schema import issuer_problem, parse_config

__all__ = ["load", "read_config", "read_text"]


def read_text(path: str | Path) -> str:
    """The file's text; a ConfigurationError (not a traceback) when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read ({type(exc).__name__})") from None


def environment_problems(config: TesseraConfig) -> list[Diagnostic]:
    """Problems in values the environment set (``TESSERA_ISSUER``), named by their variable."""
    issuer = config.provider.issuer
    problem = issuer_problem(issuer) if issuer is not None else None
    if problem is None or config.document.get("provider", {}).get("issuer") == issuer:
        return []
    return [Diagnostic(str(config.path), 0, ISSUER_ENV, problem)]


def read_config(path: str | Path, environ: Mapping[str, str] | None = None) -> TesseraConfig:
    """The checked configuration in ``path``, with the environment's overrides applied."""
    config, problems = parse_config(read_text(path), path)
    if config is None or problems:
        raise ConfigFileError(problems)
    config = apply_overrides(config, environ)
    problems = environment_problems(config)
    if problems:
        raise ConfigFileError(problems)
    return config


def load(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> TesseraConfig:
    """Read ``path``, else ``$TESSERA_CONFIG``, else ``./tessera.toml``.

    The result gives a function what it needs in one line::

        config = tessera.config.load("tessera.toml")
        authorizer = LambdaAuthorizer(config.verifier(), config.routes)
    """
    found = config_path(path, environ, required=True)
    return read_config(found or CONFIG_NAME, environ)
