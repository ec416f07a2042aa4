"""What the protect side and the gateway take from a ``tessera.toml``: the rules and the ``[gateway]``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..protect.routes import RouteRules
from .loading import read_config

__all__ = ["routes_document", "rules_from_config"]


def rules_from_config(path: str | Path) -> RouteRules:
    """The file's ``[[routes]]`` with its issuer and audience, as a routes file would carry them."""
    config = read_config(path)
    rules = config.routes
    audience = (config.audience(),) if config.apis or config.overrides.audience else ()
    gateway = config.document.get("gateway", {})
    return replace(rules, issuer=config.provider.issuer, audience=audience, gateway=MappingProxyType(gateway))


def routes_document(path: str | Path) -> dict[str, Any]:
    """The part of a checked ``tessera.toml`` that a routes file would hold: rules and ``[gateway]``."""
    config = read_config(path)
    return {key: config.document[key] for key in ("routes", "gateway") if key in config.document}
