"""Fixtures for the deployment tests: tests/store's servers, an SMTP sink, a store ready to serve."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tessera.issue.clients import register_client
from tessera.store import ClientRecord, User
from tessera.store.url import open_store
from tests.store.conftest import _aws_credentials, fresh_store_url, moto_endpoint, postgres_template
from tests.store.servers import free_port

from .flow import CLIENT_ID, REDIRECT

__all__ = ["_aws_credentials", "moto_endpoint", "postgres_template"]

_CODE = re.compile(rb"sign-in code is ([0-9]{12}|[0-9]{6})\b")


@dataclass
class MailSink:
    """An aiosmtpd server on 127.0.0.1 keeping every message it receives."""

    port: int
    messages: list[bytes] = field(default_factory=list)

    def code_for(self, email: str, *, after: int, timeout: float = 15.0) -> str:
        """The sign-in code in the first message to ``email`` past the first ``after`` messages."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages[after:]:
                if f"To: {email}".encode() in message:
                    match = _CODE.search(message)
                    if match:
                        return match.group(1).decode()
            time.sleep(0.02)
        raise AssertionError(f"no sign-in code for {email} within {timeout} s")


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) on a free loopback port, stopped after the test."""
    from aiosmtpd.controller import Controller

    sink = MailSink(free_port())

    class Keep:
        async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
            self, server: object, session: object, envelope: object
        ) -> str:
            sink.messages.append(bytes(getattr(envelope, "content", b"")))
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


def prepared_store(url: str) -> None:
    """Register the flow's public client and its user in the store at ``url``."""
    store = open_store(url)
    try:
        register_client(
            store,
            ClientRecord(
                client_id=CLIENT_ID,
                redirect_uris=(REDIRECT,),
                scopes=("openid", "email", "offline_access"),
            ),
        )
        store.put_user(User("usr_alice", "alice@example.com", True, "Alice", ()))
    finally:
        store.close()


def store_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of ``kind`` with the flow's client and user in it; its URL."""
    url = fresh_store_url(kind, request, tmp_path)
    prepared_store(url)
    return url


def provider_env(issuer: str, store_url: str, sink: MailSink, master_key: str) -> dict[str, str]:
    """The app settings of a provider on ``store_url`` mailing through ``sink``."""
    return {
        "TESSERA_ISSUER": issuer,
        "TESSERA_STORE": store_url,
        "TESSERA_MASTER_KEY": master_key,
        "TESSERA_SMTP_HOST": "127.0.0.1",
        "TESSERA_SMTP_PORT": str(sink.port),
        "TESSERA_SMTP_STARTTLS": "false",
        "TESSERA_MAIL_FROM": "tessera@example.test",
    }
