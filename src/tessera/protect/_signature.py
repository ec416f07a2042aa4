"""Helpers for decorators whose wrapper must look like the handler minus its ``principal``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError

__all__ = ["without_principal"]


def without_principal(handler: Callable[..., Any], wrapper: Callable[..., Any]) -> inspect.Signature:
    """Give ``wrapper`` the handler's signature without ``principal`` (frameworks bind by name)."""
    signature = inspect.signature(handler)
    if "principal" not in signature.parameters:
        raise ConfigurationError("a protected handler takes a 'principal' parameter")
    reduced = signature.replace(parameters=[p for n, p in signature.parameters.items() if n != "principal"])
    wrapper.__dict__.pop("__wrapped__", None)
    wrapper.__signature__ = reduced  # type: ignore[attr-defined]
    return reduced
