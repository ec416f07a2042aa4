"""Tessera itself as an ``OP`` for the interop tests: ``tessera dev`` as a real process."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tessera.testing.devserver import DevServer
from tessera.testing.signin import sign_in_via_outbox

from .providers import OP, free_port


@contextmanager
def tessera_op(workers: int = 1) -> Iterator[OP]:
    """``tessera dev`` on a free port with user alice; signs in through the dev outbox."""
    secret = secrets.token_urlsafe(32)
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with DevServer(
        users=["alice@example.com:admin"], env={"TESSERA_DEV_SERVICE_SECRET": secret}, workers=workers
    ) as server:
        # One browser for the whole run, as a person would have: its session answers later
        # authorization requests without another emailed code (which is throttled).
        browser = httpx.Client(timeout=10)

        def sign_in(authorization_url: str) -> str:
            return sign_in_via_outbox(browser, authorization_url, "alice@example.com", issuer=server.issuer)

        try:
            yield OP(
                name="tessera" if workers == 1 else f"tessera-{workers}-workers",
                issuer=server.issuer,
                public_client_id="dev-spa",
                redirect_uri=redirect_uri,
                service_client_id="dev-service",
                service_client_secret=secret,
                audience=server.issuer,
                sign_in=sign_in,
            )
        finally:
            browser.close()
