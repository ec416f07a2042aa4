"""``tessera.toml``: one file for the provider, its APIs, clients and users, and the routes.

The protect side needs one line (``tessera.config.load()``), and pays for nothing but
:mod:`tomllib` and the route rules: the provider is never imported from here.
"""

from __future__ import annotations

from .diagnostics import ConfigFileError, Diagnostic
from .loading import load, read_config
from .locations import CONFIG_ENV, CONFIG_NAME, config_path
from .model import ApiConfig, ClientConfig, ProviderConfig, SmsConfig, TesseraConfig, UserConfig
from .schema import OPENID_SCOPES

__all__ = [
    "CONFIG_ENV",
    "CONFIG_NAME",
    "OPENID_SCOPES",
    "ApiConfig",
    "ClientConfig",
    "ConfigFileError",
    "Diagnostic",
    "ProviderConfig",
    "SmsConfig",
    "TesseraConfig",
    "UserConfig",
    "config_path",
    "load",
    "read_config",
]
