"""Outgoing mail for the provider: a :class:`Mailer` protocol, SMTP delivery and a dev outbox.

A :class:`MailMessage` refuses, when it is built, any recipient or subject that could smuggle a
header into the mail (CR, LF or another control character) or name more than one recipient, so no
mailer ever sees one. :class:`SMTPMailer` speaks SMTP with the standard library; :class:`DevOutbox`
prints each mail to the console and keeps the latest ones in memory for ``GET /dev/outbox``.
"""

from __future__ import annotations

import re
import smtplib
import sqlite3
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from ipaddress import ip_address
from pathlib import Path
from typing import Protocol, TextIO, TypedDict

from tessera.errors import ConfigurationError, TesseraError

__all__ = [
    "DevOutbox",
    "OutboxMail",
    "MailDeliveryFailed",
    "MailError",
    "MailMessage",
    "MailRejected",
    "Mailer",
    "SMTPMailer",
]

# One addr-spec, ASCII only: no display name, no list, no quoting, nothing a header parser
# could read as a second address or a new header line.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
)
_MAX_ADDRESS_LENGTH = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_SUBJECT_LENGTH = 998


class MailError(TesseraError):
    """A mail could not be built or sent."""

    code = "mail_error"


class MailRejected(MailError):
    """A recipient or subject is unsafe (header injection, several recipients, not an address)."""

    code = "mail_rejected"

    def __init__(self, field: str) -> None:
        super().__init__(f"unsafe or malformed mail field: {field}")
        self.field = field


class MailDeliveryFailed(MailError):
    """The SMTP server could not be reached or refused the mail."""

    code = "mail_delivery_failed"


def _is_address(value: str) -> bool:
    return len(value) <= _MAX_ADDRESS_LENGTH and _ADDRESS.fullmatch(value) is not None


def _refuse_unsafe(to: str, subject: str) -> None:
    if not _is_address(to):
        raise MailRejected("to")
    if _CONTROL.search(subject) or len(subject) > _MAX_SUBJECT_LENGTH:
        raise MailRejected("subject")


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One mail to one recipient: a plain-text body and, optionally, an HTML alternative.

    Raises :class:`MailRejected` if ``to`` is not a single plain address or if ``subject``
    contains a control character such as CR or LF.
    """

    to: str
    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        _refuse_unsafe(self.to, self.subject)


class Mailer(Protocol):
    """Anything that delivers a :class:`MailMessage`; raises :class:`MailError` when it cannot."""

    def send(self, message: MailMessage) -> None:
        """Deliver ``message`` or raise :class:`MailError`."""
        ...


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class SMTPMailer:
    """Delivers mail over SMTP, one connection per message.

    ``starttls`` upgrades the connection before anything else is said (with ``tls_context``, by
    default the system's verifying context). Credentials are only sent over STARTTLS, or to a
    loopback relay.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 10,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not host or _CONTROL.search(host):
            raise ConfigurationError("SMTP host must be a host name or address")
        if not 0 < port < 65536:
            raise ConfigurationError("SMTP port must be between 1 and 65535")
        if not _is_address(sender):
            raise ConfigurationError("SMTP sender must be a single plain address")
        if (username is None) != (password is None):
            raise ConfigurationError("SMTP username and password go together")
        if username is not None and not starttls and not _is_loopback(host):
            raise ConfigurationError("SMTP credentials need starttls=True unless the relay is loopback")
        if timeout_seconds <= 0:
            raise ConfigurationError("SMTP timeout must be positive")
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self._username = username
        self._password = password
        self.timeout_seconds = timeout_seconds
        self._tls_context = tls_context

    def __repr__(self) -> str:
        return f"SMTPMailer(host={self.host!r}, port={self.port}, sender={self.sender!r})"

    def compose(self, message: MailMessage) -> EmailMessage:
        """The RFC 5322 message that :meth:`send` transmits for ``message``."""
        _refuse_unsafe(message.to, message.subject)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: MailMessage) -> None:
        """Send ``message``; raises :class:`MailDeliveryFailed` if the relay cannot take it."""
        mail = self.compose(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
                if self.starttls:
                    smtp.starttls(context=self._tls_context or ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                smtp.send_message(mail, from_addr=self.sender, to_addrs=[message.to])
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            raise MailDeliveryFailed(f"SMTP delivery failed: {type(exc).__name__}") from None


class OutboxMail(TypedDict):
    """One mail kept by :class:`DevOutbox`, as ``GET /dev/outbox`` lists it."""

    id: int
    to: str
    subject: str
    text: str
    sent_at: str


class DevOutbox:
    """A development :class:`Mailer`: prints every mail to the console and keeps the latest ones.

    Each mail is written to ``stream`` (standard error by default) between two marker lines.
    :meth:`messages` returns the kept mails, newest first; at most ``capacity`` are kept. The
    mails are kept in SQLite: in memory by default, or in the file ``database``, which lets
    several processes (``tessera dev --workers``) share one outbox. Safe to use from several
    threads. For development only: the printed mails hold sign-in codes.
    """

    def __init__(
        self,
        *,
        capacity: int = 200,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.time,
        database: str | Path = ":memory:",
    ) -> None:
        if capacity < 1:
            raise ConfigurationError("the outbox must keep at least one mail")
        self._capacity = capacity
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(database, timeout=30, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "recipient TEXT NOT NULL, subject TEXT NOT NULL, text TEXT NOT NULL, sent_at REAL NOT NULL)"
        )

    def send(self, message: MailMessage) -> None:
        """Keep ``message`` and print it, framed, to the console."""
        self.keep(message.to, message.subject, message.text, kind="mail")

    def keep(self, to: str, subject: str, text: str, *, kind: str = "SMS") -> None:
        """Keep a message (a mail, or a text to a phone number) and print it, framed, to the console."""
        sent_at = self._clock()
        frame = (
            f"\n===== dev outbox: {kind} to {to} =====\n"
            f"Subject: {subject}\n\n"
            f"{text.rstrip()}\n"
            f"===== end of {kind} =====\n"
        )
        with self._lock:
            with self._db:  # one transaction: committed, or rolled back on an error
                self._db.execute(
                    "INSERT INTO outbox (recipient, subject, text, sent_at) VALUES (?, ?, ?, ?)",
                    (to, subject, text, sent_at),
                )
                self._db.execute(
                    "DELETE FROM outbox WHERE id <= (SELECT MAX(id) FROM outbox) - ?", (self._capacity,)
                )
            stream = self._stream or sys.stderr
            stream.write(frame)
            stream.flush()

    def messages(self) -> list[OutboxMail]:
        """The kept mails, newest first: ``id`` (increasing), ``to``, ``subject``, ``text``, ``sent_at``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, recipient, subject, text, sent_at FROM outbox ORDER BY id DESC LIMIT ?",
                (self._capacity,),
            ).fetchall()
        return [
            {
                "id": mail_id,
                "to": to,
                "subject": subject,
                "text": text,
                "sent_at": datetime.fromtimestamp(sent_at, UTC).isoformat(),
            }
            for mail_id, to, subject, text, sent_at in rows
        ]
