"""Protect any serverless function: one platform-free core, one thin adapter per platform.

The core is here: :class:`Guard` (the decision), :class:`HttpRequest`/:class:`HttpResponse`
(what adapters translate to and from), :class:`Principal` (who called),
:func:`error_response` (the one RFC 6750 mapping), :class:`CORS` and the generic
:func:`authorize`. Adapters are imported from their own modules, e.g.
``from tessera.protect.aws_lambda import authorize``.
"""

from .cors import CORS
from .decorator import authorize
from .guard import ClaimPredicate, Guard, GuardOptions, TokenVerifier
from .http import Headers, HttpRequest, HttpResponse, MultiMap
from .principal import Principal
from .responses import error_response

__all__ = [
    "CORS",
    "ClaimPredicate",
    "Guard",
    "GuardOptions",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "MultiMap",
    "Principal",
    "TokenVerifier",
    "authorize",
    "error_response",
]
