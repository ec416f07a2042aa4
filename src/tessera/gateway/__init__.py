"""A local API Gateway for Lambda handlers: ``tessera gateway --routes ROUTES_FILE``.

Each HTTP request becomes a genuine API Gateway proxy event (REST payload 1.0 or HTTP API 2.0);
the route's Lambda authorizer runs first, behind a result cache that behaves like API Gateway's,
then the handler, whose proxy result becomes the HTTP response. Handlers run in this process
or, with ``runtime="ric"``, through the real ``awslambdaric`` runtime client.
"""

from .config import ApiSettings, AuthorizerSpec, GatewayConfig, GatewayRoute, load_gateway_config
from .request import IncomingRequest
from .responses import GatewayResponse
from .server import CACHE_HEADER, Gateway, GatewayServer

__all__ = [
    "CACHE_HEADER",
    "ApiSettings",
    "AuthorizerSpec",
    "Gateway",
    "GatewayConfig",
    "GatewayResponse",
    "GatewayRoute",
    "GatewayServer",
    "IncomingRequest",
    "load_gateway_config",
]
