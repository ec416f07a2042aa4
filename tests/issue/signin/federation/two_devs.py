"""Two real ``tessera dev`` processes, one the other's upstream.

Process 1 (the upstream) serves ``http://127.0.0.1:PORT`` with user alice and a confidential
client ``downstream`` registered for process 2's callback; process 2 serves
``http://localhost:PORT`` (another host, so one cookie jar keeps the two apart: cookies ignore
ports) with ``[[upstreams]] id = "dev"`` in its ``tessera.toml`` pointing at process 1's issuer.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.store import ClientRecord
from tessera.store.sqlite import SQLiteStore
from tessera.testing.devserver import DevServer

SECRET = "downstream-secret-" + "d" * 32
UPSTREAM_NAME = "Upstream Tessera"


def _config(upstream_issuer: str) -> str:
    return f"""\
[[upstreams]]
id = "dev"
name = "{UPSTREAM_NAME}"
issuer = "{upstream_issuer}"
client_id = "downstream"
client_secret_env = "DEV_UPSTREAM_SECRET"
"""


@contextmanager
def tessera_pair(folder: Path) -> Iterator[tuple[DevServer, DevServer]]:
    """(upstream, downstream), both running; both stopped afterwards."""
    with DevServer(users=("alice@example.com",)) as upstream:
        config = folder / "tessera.toml"
        config.write_text(_config(upstream.issuer))
        with DevServer(
            host="localhost", config=config, env={"DEV_UPSTREAM_SECRET": SECRET}, users=()
        ) as downstream:
            store = SQLiteStore(upstream.data / "tessera.db")
            try:
                register_client(
                    store,
                    ClientRecord(
                        client_id="downstream",
                        name="Downstream Tessera",
                        redirect_uris=(f"{downstream.issuer}/upstream/dev/callback",),
                        auth_methods=("client_secret_basic",),
                        secret_hash=hash_client_secret(SECRET),
                        scopes=("openid", "email", "profile"),
                    ),
                )
            finally:
                store.close()
            yield upstream, downstream


def shown_claims(page: str, element: str) -> dict[str, Any]:
    """The decoded claims ``/dev/callback`` shows in ``<pre id="{element}">``."""
    found = re.search(rf'<pre id="{element}">(.*?)</pre>', page, re.DOTALL)
    assert found, page
    claims: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return claims


def shown_token(page: str) -> str:
    """The raw access token ``/dev/callback`` shows."""
    found = re.search(r'<pre id="access-token">(.*?)</pre>', page, re.DOTALL)
    assert found, page
    return html.unescape(found.group(1)).strip()
