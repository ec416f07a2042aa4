"""FastAPI's view of a protected path operation: a security scheme, so ``/docs`` has Authorize.

The scheme is declared with ``fastapi.security`` classes with ``auto_error=False``: FastAPI only
documents it and hands the decorator a value it drops; Tessera's guard still decides every request.
Nothing is added (and FastAPI is not imported) unless the application has imported FastAPI.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from .guard import Guard

__all__ = ["SECURITY_PARAMETER", "security_parameter"]

SECURITY_PARAMETER = "tessera_credentials"
_DESCRIPTION = "An access token from the issuer the API trusts (for example from `tessera login`)."


def security_parameter(guard: Guard) -> inspect.Parameter | None:
    """A keyword-only parameter whose default declares ``guard``'s credential to FastAPI, or None."""
    if "fastapi" not in sys.modules:
        return None
    from fastapi import Security
    from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPBearer

    scheme: Any
    if guard.cookie is not None:
        scheme = APIKeyCookie(name=guard.cookie, scheme_name="TesseraCookie", auto_error=False)
    elif guard.header is not None:
        scheme = APIKeyHeader(name=guard.header, scheme_name="TesseraHeader", auto_error=False)
    else:
        scheme = HTTPBearer(
            bearerFormat="JWT", scheme_name="TesseraBearer", description=_DESCRIPTION, auto_error=False
        )
    return inspect.Parameter(
        SECURITY_PARAMETER, inspect.Parameter.KEYWORD_ONLY, default=Security(scheme), annotation=Any
    )
