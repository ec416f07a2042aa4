"""Tessera federated to Tessera: a real ``tessera dev`` process is the upstream, over real HTTP.

The person signs in twice, through both sets of hosted pages: at the upstream's (email, then
the code from its dev outbox), and comes back to the downstream provider, which issues its own
tokens saying ``amr`` fed and ``idp`` dev.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.store import ClientRecord
from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import DevServer
from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import sign_in_via_outbox
from tessera.verify import Verifier

from .harness import SECRET, Walk, configure

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def upstream_dev(idp: ProviderHarness) -> Iterator[DevServer]:
    """``tessera dev`` with user alice, and the downstream provider registered as its client."""
    with DevServer(users=("alice@example.com",)) as server:
        store = SQLiteStore(server.data / "tessera.db")
        register_client(
            store,
            ClientRecord(
                client_id="downstream",
                name="Downstream Tessera",
                redirect_uris=(f"{idp.issuer}/upstream/dev/callback",),
                auth_methods=("client_secret_basic",),
                secret_hash=hash_client_secret(SECRET),
                scopes=("openid", "email", "profile"),
            ),
        )
        store.close()
        yield server


def test_sign_in_at_another_tessera_over_http(idp: ProviderHarness, upstream_dev: DevServer) -> None:
    idp.clock.now = time.time()  # the upstream process signs with the real clock
    configure(
        idp,
        {
            "id": "dev",
            "name": "Upstream Tessera",
            "issuer": upstream_dev.issuer,
            "client_id": "downstream",
            "client_secret_env": "CORP_SECRET",
        },
    )
    walk = Walk(idp, idp.browser)
    location = walk.to_upstream("dev")
    assert location.startswith(f"{upstream_dev.issuer}/authorize?")
    with httpx.Client(timeout=10) as person_at_upstream:
        callback = sign_in_via_outbox(
            person_at_upstream, location, "alice@example.com", issuer=upstream_dev.issuer
        )
    assert callback.startswith(f"{idp.issuer}/upstream/dev/callback?")
    tokens = walk.finish(walk.callback(callback))
    jwks = idp.browser.get("/jwks").json()
    claims = Verifier(
        issuer=idp.issuer, audience=idp.issuer, token_type="at+jwt", jwks=jwks, clock=idp.clock
    ).verify(tokens["access_token"])
    assert claims["amr"] == ["fed"] and claims["idp"] == "dev"
    # The downstream's alice is the upstream's alice, linked by her verified email.
    link = idp.store.upstream_links_of("usr_alice")
    assert len(link) == 1 and link[0].upstream_id == "dev" and link[0].email == "alice@example.com"
    assert claims.subject == "usr_alice"
