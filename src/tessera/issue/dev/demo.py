"""The demo API of ``tessera dev`` (protected by Tessera's own ``authorize``) and the dev outbox."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tessera.issue.dev.pages import dev_page_routes
from tessera.issue.offload import off_loop
from tessera.issue.provider import Provider
from tessera.protect.asgi import authorize
from tessera.protect.principal import Principal
from tessera.verify import Claims, Verifier

__all__ = ["demo_routes"]


class OffLoopVerifier:
    """The provider's verifier whose async check runs in a worker thread: its keys and its
    revocation check are store reads."""

    def __init__(self, provider: Provider, verifier: Verifier) -> None:
        self._provider = provider
        self._verifier = verifier

    def verify(self, token: str) -> Claims:
        """Verify synchronously."""
        return self._verifier.verify(token)

    async def averify(self, token: str) -> Claims:
        """Verify in the request's one hop off the event loop."""
        return await off_loop(self._provider, self._verifier.verify, token)


def demo_routes(provider: Provider) -> list[Route]:
    """``/demo/hello`` (scope ``demo:read``), ``/demo/admin`` (role ``admin``), ``/dev/outbox``."""
    verifier = OffLoopVerifier(
        provider,
        Verifier(
            issuer=provider.settings.issuer,
            audience=provider.settings.token_audience,
            token_type="at+jwt",
            keys=provider.keys,
            checks=(provider.not_revoked,),
            cache_size=0,
            clock=provider.clock,
        ),
    )

    @authorize(verifier, scopes=["demo:read"])
    async def hello(request: Request, principal: Principal) -> Response:
        return JSONResponse({"message": "hello", "subject": principal.subject})

    @authorize(verifier, roles=["admin"])
    async def admin(request: Request, principal: Principal) -> Response:
        return JSONResponse({"message": "hello, admin", "subject": principal.subject})

    async def outbox(request: Request) -> Response:
        messages = await off_loop(provider, provider.outbox.messages) if provider.outbox is not None else []
        return JSONResponse(messages, headers={"Cache-Control": "no-store"})

    routes = [Route("/demo/hello", hello), Route("/demo/admin", admin)]
    if provider.settings.dev_mode and provider.outbox is not None:
        routes.append(Route("/dev/outbox", outbox))
        routes.extend(dev_page_routes())
    return routes
