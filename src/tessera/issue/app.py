"""The provider as a Starlette ASGI app: uvicorn locally, Mangum on Lambda."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tessera.issue.cors import EndpointCORS, StrictTransport
from tessera.issue.dev.demo import demo_routes
from tessera.issue.endpoints import authorize, logout, metadata, revocation, token, userinfo
from tessera.issue.hosts import HostCheck, allowed_hosts
from tessera.issue.look import Look, look_for
from tessera.issue.pages import account, account_totp, assets, consent
from tessera.issue.provider import Provider
from tessera.issue.signin import email_code, magic_link, passkey, sms
from tessera.issue.signin import totp as signin_totp
from tessera.issue.signin.federation import pages as federation_pages
from tessera.issue.web import PAGE_LOOK

__all__ = ["create_app"]


async def _unexpected(request: Request, exc: Exception) -> Response:
    logging.getLogger("tessera.issue").error(
        "unexpected error on %s: %s", request.url.path, type(exc).__name__
    )
    return JSONResponse({"error": "server_error"}, 500, {"Cache-Control": "no-store"})


class ProviderLook:
    """Makes the provider's look (name, logo, templates) the one its pages show, for its requests."""

    def __init__(self, app: ASGIApp, look: Look) -> None:
        self.app = app
        self.look = look

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = PAGE_LOOK.set(self.look)
        try:
            await self.app(scope, receive, send)
        finally:
            PAGE_LOOK.reset(token)


async def _gone(request: Request, exc: Exception) -> Response:
    # The client left mid-request (or a read deadline closed it): nobody reads an answer.
    return Response(status_code=400)


def create_app(provider: Provider, *, demo: bool = True) -> Starlette:
    """The ASGI app for ``provider``; every route lives under the issuer's path.

    ``/token``, the busiest route, is matched first. The app's lifespan runs the mail sender
    (:class:`~tessera.issue.mail.outgoing.Outgoing`), which first sends what an earlier process left
    in the queue.
    """
    routes: list[BaseRoute] = [
        Route("/token", token.token, methods=["POST"]),
        Route("/.well-known/openid-configuration", metadata.discovery),
        Route("/.well-known/oauth-authorization-server", metadata.discovery),
        Route("/jwks", metadata.jwks),
        Route("/authorize", authorize.authorize),
        Route("/authorize/continue", authorize.authorize_continue),
        Route("/consent", consent.consent_form, methods=["GET"]),
        Route("/consent", consent.consent_decision, methods=["POST"]),
        Route("/signin", email_code.email_form, methods=["GET"]),
        Route("/signin", email_code.submit_email, methods=["POST"]),
        Route("/signin/code", email_code.code_form, methods=["GET"]),
        Route("/signin/code", email_code.submit_code, methods=["POST"]),
        Route("/signin/code/resend", email_code.resend_code, methods=["POST"]),
        Route("/signin/done", email_code.signed_in),
        Route("/signin/totp", signin_totp.totp_form, methods=["GET"]),
        Route("/signin/totp", signin_totp.submit_totp, methods=["POST"]),
        Route("/signin/passkey/options", passkey.passkey_options, methods=["POST"]),
        Route("/signin/passkey", passkey.passkey_sign_in, methods=["POST"]),
        Route("/account", account.account_page, methods=["GET"]),
        Route("/account/passkeys/options", account.passkey_options, methods=["POST"]),
        Route("/account/passkeys", account.add_passkey, methods=["POST"]),
        Route("/account/passkeys/rename", account.rename_passkey, methods=["POST"]),
        Route("/account/passkeys/remove", account.remove_passkey, methods=["POST"]),
        *account_totp.ROUTES,
        Route("/static/passkeys.js", assets.passkeys_js, methods=["GET"]),
        Route("/static/tessera.css", assets.stylesheet, methods=["GET"]),
        Route("/static/logo", assets.logo, methods=["GET"]),
        Route("/static/icon.svg", assets.icon, methods=["GET"]),
        Route("/upstream/{upstream_id}/start", federation_pages.start, methods=["GET"]),
        Route("/upstream/{upstream_id}/callback", federation_pages.callback, methods=["GET", "POST"]),
        Route("/upstream/{upstream_id}/link", federation_pages.link, methods=["POST"]),
        Route("/upstream/{upstream_id}/unlink", federation_pages.unlink_identity, methods=["POST"]),
        Route("/account/upstreams", federation_pages.account_upstreams, methods=["GET"]),
        Route("/signin/link", magic_link.land_link, methods=["GET"]),
        Route("/signin/link", magic_link.confirm_link, methods=["POST"]),
        Route("/signin/phone", sms.phone_form, methods=["GET"]),
        Route("/signin/phone", sms.submit_phone, methods=["POST"]),
        Route("/signin/phone/code", sms.phone_code_form, methods=["GET"]),
        Route("/signin/phone/code", sms.submit_phone_code, methods=["POST"]),
        Route("/signin/phone/code/resend", sms.resend_phone_code, methods=["POST"]),
        Route("/userinfo", userinfo.userinfo, methods=["GET", "POST"]),
        Route("/revoke", revocation.revoke, methods=["POST"]),
        Route("/introspect", revocation.introspect, methods=["POST"]),
        Route("/logout", logout.logout, methods=["GET"]),
        Route("/logout", logout.logout_confirm, methods=["POST"]),
    ]
    if demo:
        routes.extend(demo_routes(provider))
    base = provider.settings.base_path
    settings = provider.settings
    look = look_for(settings.name, base, settings.logo, settings.templates)
    named = Middleware(ProviderLook, look=look)
    cors = Middleware(
        EndpointCORS,
        base_path=base,
        origins=provider.settings.cors_origins,
        allow_loopback=provider.settings.dev_mode,
    )
    middleware = [named, cors, Middleware(StrictTransport)] if settings.secure_cookies else [named, cors]
    if settings.check_host:
        hosts = allowed_hosts(settings.issuer, settings.extra_hosts)
        middleware.insert(0, Middleware(HostCheck, hosts=hosts))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        provider.outgoing.start()
        yield
        await asyncio.to_thread(provider.outgoing.stop)

    app = Starlette(
        lifespan=lifespan,
        routes=[Mount(base, routes=routes)] if base else routes,
        middleware=middleware,
        exception_handlers={ClientDisconnect: _gone, Exception: _unexpected},
    )
    app.state.provider = provider
    return app
