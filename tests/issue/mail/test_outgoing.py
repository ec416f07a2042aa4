"""The mail queue: sealed rows in the store, one send per row across senders, retries, expiry, restarts."""

from __future__ import annotations

import io
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tessera.issue.app import create_app
from tessera.issue.mail.delivery import DevOutbox, MailDeliveryFailed, MailMessage
from tessera.issue.mail.outgoing import Outgoing
from tessera.issue.provider import Provider
from tessera.issue.settings import ProviderSettings
from tessera.keys.sealing import MasterKey
from tessera.store import User
from tessera.store.sqlite import SQLiteStore
from tessera.testing.idp import FakeClock

CODE_TEXT = "Your sign-in code is 493817"


class Recorder:
    """A mailer that keeps what it sends and can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []
        self.failing = False
        self._lock = threading.Lock()

    def send(self, message: MailMessage) -> None:
        if self.failing:
            raise MailDeliveryFailed("relay down")
        with self._lock:
            self.sent.append(message)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "mail.db")
    opened.put_user(User("usr_a", "a@example.test"))
    opened.put_user(User("usr_off", "off@example.test", disabled=True))
    yield opened
    opened.close()


def _outgoing(store: SQLiteStore, mailer: Recorder, clock: FakeClock, key: MasterKey) -> Outgoing:
    return Outgoing(store, key, mailer, clock=clock, autostart=False)


def _post(outgoing: Outgoing, clock: FakeClock, to: str = "a@example.test") -> None:
    outgoing.post(MailMessage(to, "Code", CODE_TEXT), expires_at=clock() + 600, account_only=True)


def _rows(store: SQLiteStore) -> int:
    with sqlite3.connect(store.path) as db:
        count: int = db.execute("SELECT COUNT(*) FROM mail_queue").fetchone()[0]
    return count


def test_only_enabled_accounts_get_mail_and_the_row_holds_no_code(store: SQLiteStore) -> None:
    clock, mailer = FakeClock(), Recorder()
    outgoing = _outgoing(store, mailer, clock, MasterKey.generate())
    for to in ("a@example.test", "nobody@example.test", "off@example.test"):
        _post(outgoing, clock, to)
    with sqlite3.connect(store.path) as db:
        sealed = b"".join(row[0] for row in db.execute("SELECT sealed FROM mail_queue"))
    assert b"493817" not in sealed and b"example.test" not in sealed
    assert _rows(store) == 3
    assert outgoing.drain() == 3
    assert [m.to for m in mailer.sent] == ["a@example.test"]
    assert mailer.sent[0].text == CODE_TEXT
    assert _rows(store) == 0


def test_concurrent_senders_send_each_mail_once(store: SQLiteStore) -> None:
    clock, mailer = FakeClock(), Recorder()
    key = MasterKey.generate()
    outgoing = _outgoing(store, mailer, clock, key)
    for n in range(60):
        outgoing.post(
            MailMessage("a@example.test", f"mail {n}", CODE_TEXT),
            expires_at=clock() + 600,
            account_only=False,
        )
    senders = [_outgoing(SQLiteStore(store.path), mailer, clock, key) for _ in range(4)]
    threads = [threading.Thread(target=s.drain) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(m.subject for m in mailer.sent) == Counter(f"mail {n}" for n in range(60))


def test_failed_sends_are_retried_with_backoff_then_given_up(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock, mailer = FakeClock(), Recorder()
    outgoing = _outgoing(store, mailer, clock, MasterKey.generate())
    _post(outgoing, clock)
    mailer.failing = True
    assert outgoing.drain() == 1
    assert outgoing.drain() == 0  # not due again before its backoff
    clock.advance(2)
    assert outgoing.drain() == 1
    mailer.failing = False
    clock.advance(4)
    assert outgoing.drain() == 1
    assert len(mailer.sent) == 1 and _rows(store) == 0
    mailer.failing = True
    _post(outgoing, clock)
    for _ in range(outgoing.max_attempts):
        outgoing.drain()
        clock.advance(60)
    assert _rows(store) == 0
    assert "gave up a queued mail" in caplog.text
    assert "493817" not in caplog.text


def test_a_mail_whose_code_expired_is_dropped_and_counted(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "tessera.mail")
    clock, mailer = FakeClock(), Recorder()
    outgoing = _outgoing(store, mailer, clock, MasterKey.generate())
    _post(outgoing, clock)
    _post(outgoing, clock)
    clock.advance(601)
    assert outgoing.drain() == 2
    assert mailer.sent == []
    assert "dropped 2 queued mail(s) whose code expired" in caplog.text
    assert "493817" not in caplog.text and "a@example.test" not in caplog.text
    _post(outgoing, clock)
    assert outgoing.drain() == 1 and len(mailer.sent) == 1


def test_rows_left_by_a_crash_are_sent_when_the_app_starts(tmp_path: Path) -> None:
    key = MasterKey.generate()
    settings = ProviderSettings(issuer="http://127.0.0.1:8000", dev_mode=True)
    store = SQLiteStore(tmp_path / "tessera.db")
    store.put_user(User("usr_a", "a@example.test"))
    crashed = Outgoing(store, key, Recorder(), autostart=False)  # queued, then the process died
    crashed.post(
        MailMessage("a@example.test", "Code", CODE_TEXT), expires_at=time.time() + 600, account_only=True
    )
    assert _rows(store) == 1
    outbox = DevOutbox(stream=io.StringIO())
    restarted = Provider(settings, SQLiteStore(tmp_path / "tessera.db"), key, outbox, outbox=outbox)
    with TestClient(create_app(restarted)):
        restarted.outgoing.stop()  # returns once the startup drain has finished
    assert [m["to"] for m in outbox.messages()] == ["a@example.test"]
    assert _rows(store) == 0
    store.close()
