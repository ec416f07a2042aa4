"""Tessera federated to Tessera: a real ``tessera dev`` process is the upstream, over real HTTP.

The person signs in twice, through both sets of hosted pages: at the upstream's (email, then
the code from its dev outbox), and comes back to the downstream provider, which issues its own
tokens saying ``amr`` fed and ``idp`` dev. The downstream is the in-process provider first, then
a second ``tessera dev`` process configured by its ``tessera.toml`` (:mod:`.two_devs`).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2 as httpx
import pytest

from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.store import ClientRecord
from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import DevServer
from tessera.testing.idp import ProviderHarness
from tessera.testing.signin import sign_in_via_outbox
from tessera.verify import ANY, Verifier

from .harness import SECRET, Walk, configure
from .two_devs import UPSTREAM_NAME, shown_claims, shown_token, tessera_pair

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


def test_two_tessera_dev_processes_federate_over_http(tmp_path: Path) -> None:
    """From process 2's dev-spa Sign in to its /dev/callback, through process 1's hosted pages."""
    with tessera_pair(tmp_path) as (upstream, downstream), httpx.Client(timeout=15) as person:
        started = person.get(f"{downstream.issuer}/dev/login", follow_redirects=True)
        assert started.status_code == 200 and str(started.url).startswith(f"{downstream.issuer}/signin")
        buttons = re.findall(r'href="([^"]*/upstream/dev/start[^"]*)"', started.text)
        assert buttons and UPSTREAM_NAME in started.text, started.text
        to_upstream = person.get(urljoin(downstream.issuer, html.unescape(buttons[0])))
        assert to_upstream.status_code == 303
        location = to_upstream.headers["location"]
        assert location.startswith(f"{upstream.issuer}/authorize?")
        callback = sign_in_via_outbox(person, location, "alice@example.com", issuer=upstream.issuer)
        assert callback.startswith(f"{downstream.issuer}/upstream/dev/callback?")
        back = person.get(callback)
        assert back.status_code == 200, back.text
        refresh = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', back.text)
        assert refresh, back.text
        resumed = person.get(urljoin(downstream.issuer, html.unescape(refresh.group(1))))
        assert resumed.status_code == 302, resumed.text
        at_client = resumed.headers["location"]
        answer = parse_qs(urlsplit(at_client).query)
        assert at_client.startswith(f"{downstream.issuer}/dev/callback?") and answer["code"][0]
        assert answer["iss"] == [downstream.issuer]
        shown = person.get(at_client)
        assert shown.status_code == 200, shown.text
        id_claims = shown_claims(shown.text, "id-claims")
        assert id_claims["amr"] == ["fed"] and id_claims["idp"] == "dev"
        assert id_claims["iss"] == downstream.issuer and id_claims["aud"] == "dev-spa"
        jwks = person.get(f"{downstream.issuer}/jwks").json()
        access = Verifier(issuer=downstream.issuer, audience=ANY, token_type="at+jwt", jwks=jwks).verify(
            shown_token(shown.text)
        )
        assert access["amr"] == ["fed"] and access["idp"] == "dev"
        assert access.subject == id_claims["sub"]
        # Process 2 keeps the link (in its own SQLite store): upstream dev's alice is this user.
        store = SQLiteStore(downstream.data / "tessera.db")
        try:
            (link,) = store.upstream_links_of(id_claims["sub"])
        finally:
            store.close()
        assert link.upstream_id == "dev" and link.email == "alice@example.com"
