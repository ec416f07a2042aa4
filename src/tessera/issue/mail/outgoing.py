"""Outgoing mail off the request path: requests queue sealed mails in the store, a thread sends them.

A request only seals the mail (AES-GCM under the master key, :mod:`tessera.keys.sealing`: it may
hold a sign-in code) and inserts one row, whoever the recipient is; whether the recipient has an
account is decided here, by the sender, so the answer takes as long for an unknown address as for
a known one. The sender runs in a daemon thread, never on the event loop: it starts with the
app (and first drains what a crashed process left), or on the first mail queued. Rows are claimed
atomically with a lease, so several processes on one store never send one row twice while they
live; a failed send is retried with backoff; a mail whose code has expired is dropped and counted.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from tessera.issue.mail.delivery import Mailer, MailError, MailMessage
from tessera.keys.sealing import MasterKey, SealError
from tessera.passwordless.sms import PhoneNumberRejected, SmsDeliveryFailed, SmsMessage, SmsSender
from tessera.store import ClientsAndUsers, MailQueue, QueuedMail, User

__all__ = ["Outgoing"]

_log = logging.getLogger("tessera.mail")
_CONTEXT = "mail-queue:"
MAX_BACKOFF_SECONDS = 60


class MailStore(MailQueue, ClientsAndUsers, Protocol):
    """What the sender needs of the store: the queue, and users to check recipients against."""


class Outgoing:
    """Queues mails in the store and sends them from a worker thread."""

    def __init__(
        self,
        store: MailStore,
        master_key: MasterKey,
        mailer: Mailer,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 120,
        max_attempts: int = 8,
        poll_seconds: float = 1.0,
        idle_exit_seconds: float = 300,
        autostart: bool = True,
        sms_sender: SmsSender | None = None,
    ) -> None:
        self._store = store
        self._master_key = master_key
        self.mailer = mailer
        self.sms_sender = sms_sender
        self._clock = clock
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._idle_exit_seconds = idle_exit_seconds
        self._autostart = autostart
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def post(self, message: MailMessage, *, expires_at: float, account_only: bool) -> None:
        """Queue ``message``; with ``account_only`` it is sent only if its recipient is an enabled user."""
        mail_id = secrets.token_urlsafe(16)
        content = {"to": message.to, "subject": message.subject, "text": message.text, "html": message.html}
        payload = json.dumps({**content, "account_only": account_only}).encode()
        sealed = self._master_key.seal(payload, _CONTEXT + mail_id)
        self._store.enqueue_mail(QueuedMail(mail_id, sealed, self._clock(), expires_at))
        self.wake()

    def post_sms(self, message: SmsMessage, *, expires_at: float, account_only: bool) -> None:
        """Queue a text; with ``account_only`` it is sent only if its number is an enabled user's."""
        mail_id = secrets.token_urlsafe(16)
        content = {"kind": "sms", "to": message.to, "text": message.text, "account_only": account_only}
        sealed = self._master_key.seal(json.dumps(content).encode(), _CONTEXT + mail_id)
        self._store.enqueue_mail(QueuedMail(mail_id, sealed, self._clock(), expires_at))
        self.wake()

    def drain(self) -> int:
        """Handle every mail due now, in this thread; how many rows were handled."""
        handled = expired = 0
        while True:
            now = self._clock()
            row = self._store.claim_mail(now, self.lease_seconds)
            if row is None:
                break
            handled += 1
            if row.expires_at <= now:
                self._store.delete_mail(row.mail_id)
                expired += 1
                continue
            self._deliver(row, now)
        if expired:
            _log.warning("dropped %d queued mail(s) whose code expired before they could be sent", expired)
        return handled

    def _deliver(self, row: QueuedMail, now: float) -> None:
        try:
            data = json.loads(self._master_key.open(row.sealed, _CONTEXT + row.mail_id))
            account_only = bool(data["account_only"])
            if data.get("kind") == "sms":
                text: SmsMessage | MailMessage = SmsMessage(data["to"], data["text"])
            else:
                text = MailMessage(data["to"], data["subject"], data["text"], data["html"])
        except (SealError, MailError, PhoneNumberRejected, ValueError, KeyError, TypeError):
            _log.error("dropped a queued mail that does not open under this master key")
            self._store.delete_mail(row.mail_id)
            return
        user: User | None = None
        if account_only:
            find = (
                self._store.find_user_by_phone
                if isinstance(text, SmsMessage)
                else self._store.find_user_by_email
            )
            user = find(text.to)
            if user is None or user.disabled:
                self._store.delete_mail(row.mail_id)
                return
        try:
            self._send(text, user)
        except (MailError, SmsDeliveryFailed) as exc:
            if row.attempts >= self.max_attempts:
                _log.error("gave up a queued mail after %d attempts (%s)", row.attempts, exc.code)
                self._store.delete_mail(row.mail_id)
            else:
                _log.warning("could not send a queued mail (%s); will retry", exc.code)
                self._store.release_mail(row.mail_id, now + min(2**row.attempts, MAX_BACKOFF_SECONDS))
            return
        self._store.delete_mail(row.mail_id)

    def _send(self, text: SmsMessage | MailMessage, user: User | None) -> None:
        """Hand ``text`` to its sender, addressed as the user's record says when there is one."""
        if isinstance(text, MailMessage):
            self.mailer.send(replace(text, to=user.email) if user is not None else text)
            return
        if self.sms_sender is None:
            raise SmsDeliveryFailed("no SMS sender is configured")
        self.sms_sender.send(replace(text, to=user.phone) if user is not None and user.phone else text)

    def wake(self) -> None:
        """Have the sender look at the queue now; start its thread if it is not running (``autostart``)."""
        self._ensure_thread(self._autostart)

    def _ensure_thread(self, start: bool) -> None:
        with self._lock:
            self._wake.set()
            if start and self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="tessera-mail", daemon=True)
                self._thread.start()

    def start(self) -> None:
        """Start the sender (it first drains what is due, such as rows a crashed process left)."""
        with self._lock:
            self._stopping = False
        self._ensure_thread(True)

    def stop(self, timeout: float = 15) -> None:
        """Stop the sender thread, waiting up to ``timeout`` seconds for a send in progress."""
        with self._lock:
            self._stopping = True
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        last_busy = time.monotonic()
        while True:
            self._wake.clear()
            try:
                if self.drain():
                    last_busy = time.monotonic()
            except Exception as exc:  # the store may be briefly unavailable; try again later
                _log.error("the mail sender failed: %s", type(exc).__name__)
            with self._lock:
                idle = time.monotonic() - last_busy > self._idle_exit_seconds
                if self._stopping or (idle and not self._wake.is_set()):
                    self._thread = None
                    return
            self._wake.wait(self._poll_seconds)
