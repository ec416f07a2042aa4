"""The demo API of ``tessera dev`` (protected by Tessera's own ``authorize``) and the dev outbox."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tessera.issue.dev.pages import dev_page_routes
from tessera.issue.provider import Provider
from tessera.protect.asgi import authorize
from tessera.protect.principal import Principal
from tessera.verify import Verifier

__all__ = ["demo_routes"]


def demo_routes(provider: Provider) -> list[Route]:
    """``/demo/hello`` (scope ``demo:read``), ``/demo/admin`` (role ``admin``), ``/dev/outbox``."""
    verifier = Verifier(
        issuer=provider.settings.issuer,
        audience=provider.settings.token_audience,
        token_type="at+jwt",
        keys=provider.keys,
        checks=(provider.not_revoked,),
        cache_size=0,
        clock=provider.clock,
    )

    @authorize(verifier, scopes=["demo:read"])
    async def hello(request: Request, principal: Principal) -> Response:
        return JSONResponse({"message": "hello", "subject": principal.subject})

    @authorize(verifier, roles=["admin"])
    async def admin(request: Request, principal: Principal) -> Response:
        return JSONResponse({"message": "hello, admin", "subject": principal.subject})

    async def outbox(request: Request) -> Response:
        messages = provider.outbox.messages() if provider.outbox is not None else []
        return JSONResponse(messages, headers={"Cache-Control": "no-store"})

    routes = [Route("/demo/hello", hello), Route("/demo/admin", admin)]
    if provider.settings.dev_mode and provider.outbox is not None:
        routes.append(Route("/dev/outbox", outbox))
        routes.extend(dev_page_routes())
    return routes
