"""Environment variables that override single values of ``tessera.toml`` (docs/config.md has the table).

A deployment keeps one file and changes what differs per environment: the issuer URL, the
audience a function trusts, a bundled JWKS. An override that cannot be read is an error naming
the variable, never a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from ..errors import ConfigurationError
from .model import Overrides, TesseraConfig

__all__ = ["OVERRIDES", "apply_overrides", "read_overrides"]

ISSUER_ENV = "TESSERA_ISSUER"
NAME_ENV = "TESSERA_PROVIDER_NAME"
SIGNUP_ENV = "TESSERA_SIGNUP"
AUDIENCE_ENV = "TESSERA_AUDIENCE"
JWKS_FILE_ENV = "TESSERA_JWKS_FILE"

# variable -> what it sets; the table of docs/config.md
OVERRIDES: Mapping[str, str] = {
    ISSUER_ENV: "provider.issuer",
    NAME_ENV: "provider.name",
    SIGNUP_ENV: "provider.signup",
    AUDIENCE_ENV: "the audience the protect side accepts (one of the [[apis]] audiences)",
    JWKS_FILE_ENV: "a bundled JWKS file for the protect side, instead of OpenID discovery",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _flag(name: str, value: str) -> bool:
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


def apply_overrides(config: TesseraConfig, environ: Mapping[str, str] | None = None) -> TesseraConfig:
    """``config`` with the ``[provider]`` values the environment overrides."""
    env = os.environ if environ is None else environ
    provider = config.provider
    if env.get(ISSUER_ENV):
        provider = replace(provider, issuer=env[ISSUER_ENV].strip())
    if env.get(NAME_ENV):
        provider = replace(provider, name=env[NAME_ENV])
    if env.get(SIGNUP_ENV):
        provider = replace(provider, signup=_flag(SIGNUP_ENV, env[SIGNUP_ENV]))
    return replace(config, provider=provider, overrides=read_overrides(env))


def read_overrides(environ: Mapping[str, str] | None = None) -> Overrides:
    """The protect-side values set by ``TESSERA_AUDIENCE`` and ``TESSERA_JWKS_FILE``."""
    env = os.environ if environ is None else environ
    return Overrides(audience=env.get(AUDIENCE_ENV) or None, jwks_file=env.get(JWKS_FILE_ENV) or None)
