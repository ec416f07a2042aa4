"""Where ``tessera.toml`` is: ``--config PATH``, else ``TESSERA_CONFIG``, else the current directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CONFIG_ENV", "CONFIG_NAME", "config_path", "is_tessera_config"]

CONFIG_ENV = "TESSERA_CONFIG"
CONFIG_NAME = "tessera.toml"
PROVIDER_SECTIONS = frozenset({"provider", "apis", "clients", "users"})


def config_path(
    given: str | Path | None = None, environ: Mapping[str, str] | None = None, *, required: bool = False
) -> Path | None:
    """The configuration file to read, or None when there is none to read.

    An explicit ``given`` path wins, then ``TESSERA_CONFIG``; both must exist (the caller
    reports it). Without either, ``./tessera.toml`` is used when it exists; when it does not,
    the answer is None unless ``required``, which names it anyway so the caller can say so.
    """
    env = os.environ if environ is None else environ
    if given is not None:
        return Path(given)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path.cwd() / CONFIG_NAME
    return default if default.exists() or required else None


def is_tessera_config(path: str | Path, document: Mapping[str, object]) -> bool:
    """True for a ``tessera.toml`` (by name, or by any provider section), not a bare routes file."""
    return Path(path).name == CONFIG_NAME or not PROVIDER_SECTIONS.isdisjoint(document)
