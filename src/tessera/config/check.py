"""``tessera config check``: every problem of a ``tessera.toml``, including what the environment lacks.

Beyond the file's own checks (:mod:`.schema`): each ``secret_env`` variable must be set to a
secret of 32 characters or more, a ``[provider]`` logo file and templates folder must exist,
and a ``[gateway]`` table must be one the gateway can serve.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigurationError
from .diagnostics import Diagnostic, key_name
from .environment import apply_overrides
from .loading import environment_problems, read_text
from .model import TesseraConfig
from .schema import parse_config

__all__ = ["MIN_SECRET_CHARS", "check_config", "look_problems", "secret_problems"]

MIN_SECRET_CHARS = 32
_WHERE = re.compile(r"^((?:gateway|routes)[A-Za-z0-9_.\[\]-]*): ")


def secret_problems(config: TesseraConfig, environ: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """A diagnostic for each ``secret_env`` variable that is unset or too short to be a secret."""
    env = os.environ if environ is None else environ
    found = []
    for index, client in enumerate(config.clients):
        if client.secret_env is None:
            continue
        path = ("clients", index, "secret_env")
        value = env.get(client.secret_env)
        if not value:
            message = f"{client.secret_env} (the secret of client {client.id!r}) is not set"
        elif len(value) < MIN_SECRET_CHARS:
            message = f"{client.secret_env} must hold at least {MIN_SECRET_CHARS} characters"
        else:
            continue
        found.append(Diagnostic(str(config.path), config.lines.line(path), key_name(path), message))
    return found


def look_problems(config: TesseraConfig) -> list[Diagnostic]:
    """A diagnostic for a ``[provider]`` logo that cannot be shown or a templates folder that is missing."""
    from ..issue.look import check_logo, check_templates

    found = []
    logo, templates = config.logo(), config.templates()
    for key, problem in (
        ("logo", check_logo(logo) if logo is not None else None),
        ("templates", check_templates(templates) if templates is not None else None),
    ):
        if problem is not None:
            path = ("provider", key)
            found.append(Diagnostic(str(config.path), config.lines.line(path), key_name(path), problem))
    return found


def _path_of(where: str) -> tuple[str | int, ...]:
    """``gateway.routes[0]`` → ``("gateway", "routes", 0)``."""
    parts: list[str | int] = []
    for piece in where.split("."):
        name, *indexes = piece.replace("]", "").split("[")
        parts.append(name)
        parts.extend(int(i) for i in indexes if i.isdigit())
    return tuple(parts)


def _gateway_problems(config: TesseraConfig) -> list[Diagnostic]:
    document = config.document
    if "gateway" not in document:
        return []
    from ..gateway.config import gateway_config_from_mapping

    wiring = {key: document[key] for key in ("routes", "gateway") if key in document}
    try:
        gateway_config_from_mapping(wiring, config.path.resolve().parent)
    except ConfigurationError as exc:
        message = str(exc)
        found = _WHERE.match(message)
        path = _path_of(found.group(1)) if found else ("gateway",)
        text = message[found.end() :] if found else message
        return [Diagnostic(str(config.path), config.lines.line(path), key_name(path), text)]
    return []


def check_config(
    path: str | Path, environ: Mapping[str, str] | None = None
) -> tuple[TesseraConfig | None, list[Diagnostic]]:
    """The configuration in ``path`` and every problem found in it and in its environment."""
    config, problems = parse_config(read_text(path), path)
    if config is None:
        return None, problems
    config = apply_overrides(config, environ)
    problems += environment_problems(config)
    problems += secret_problems(config, environ)
    problems += look_problems(config)
    if not problems:
        problems += _gateway_problems(config)
    return config, sorted(problems, key=lambda d: (d.line, d.key))
