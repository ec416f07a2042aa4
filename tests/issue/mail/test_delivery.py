"""Mail delivery: SMTPMailer against a real aiosmtpd server on 127.0.0.1, and the dev outbox."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tessera.errors import ConfigurationError
from tessera.issue.mail.delivery import (
    DevOutbox,
    MailDeliveryFailed,
    MailMessage,
    MailRejected,
    SMTPMailer,
)

SENDER = "tessera@example.test"


@dataclass
class Received:
    """One mail as the SMTP server saw it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Sink:
    """An aiosmtpd handler that keeps every mail it accepts."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _running(make: Callable[[int], Controller]) -> tuple[Controller, int]:
    """A started controller on a free loopback port (Controller cannot bind port 0).

    The port is probed, then bound: another process may take it in between, so a failed bind
    tries another port. ``ready_timeout`` is generous: a busy machine (two test runs at once)
    can take more than aiosmtpd's default 5 s to start the server thread.
    """
    for _ in range(3):
        port = _free_port()
        controller = make(port)
        try:
            controller.start()
        except OSError:
            controller.stop(no_assert=True)
            continue
        return controller, port
    raise RuntimeError("no free loopback port for the SMTP test server")


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    """A plain SMTP server on a free loopback port."""
    sink = Sink()
    controller, port = _running(
        lambda port: Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=30)
    )
    try:
        yield sink, port
    finally:
        controller.stop()


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class TLSSink:
    """A STARTTLS-only SMTP server requiring AUTH, and a client context that trusts it."""

    sink: Sink
    port: int
    client_context: ssl.SSLContext

    def mailer(self, password: str) -> SMTPMailer:
        """A STARTTLS mailer for this server that logs in as ``relay``."""
        return SMTPMailer(
            "127.0.0.1",
            self.port,
            SENDER,
            starttls=True,
            username="relay",
            password=password,
            tls_context=self.client_context,
        )


@pytest.fixture
def tls_sink(tmp_path: Any) -> Iterator[TLSSink]:
    cert_pem, key_pem = _self_signed()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"relay", b"s3cret")
        return AuthResult(success=good, handled=False)

    sink = Sink()
    controller, port = _running(
        lambda port: Controller(
            sink,
            hostname="127.0.0.1",
            port=port,
            tls_context=server_context,
            require_starttls=True,
            authenticator=authenticate,
            auth_require_tls=True,
            ready_timeout=30,
        )
    )
    try:
        yield TLSSink(sink, port, ssl.create_default_context(cadata=cert_pem.decode()))
    finally:
        controller.stop()


def test_plain_text_mail_is_delivered_to_its_one_recipient(smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    mailer = SMTPMailer("127.0.0.1", port, SENDER)

    mailer.send(MailMessage("alice@example.test", "Your sign-in code", "Your code is 123456.\n"))

    [got] = sink.received
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ["alice@example.test"]
    assert got.message["From"] == SENDER
    assert got.message["To"] == "alice@example.test"
    assert got.message["Subject"] == "Your sign-in code"
    assert got.message["Message-ID"].endswith("@example.test>")
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content().replace("\r\n", "\n") == "Your code is 123456.\n"


def test_html_alternative_and_non_ascii_subject_survive_transport(smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    mailer = SMTPMailer("127.0.0.1", port, SENDER)

    mailer.send(MailMessage("bob@example.test", "Connexion à Tessera", "code 654321", html="<b>654321</b>"))

    [got] = sink.received
    assert got.message["Subject"] == "Connexion à Tessera"
    assert got.message.get_content_type() == "multipart/alternative"
    plain = got.message.get_body(("plain",))
    html = got.message.get_body(("html",))
    assert plain is not None and html is not None
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert plain.get_content().strip() == "code 654321"
    assert html.get_content().strip() == "<b>654321</b>"


@pytest.mark.parametrize(
    ("to", "subject", "field_name"),
    [
        ("alice@example.test", "Hello\r\nBcc: mallory@evil.test", "subject"),
        ("alice@example.test", "Hello\nBcc: mallory@evil.test", "subject"),
        ("alice@example.test", "Hello\rX-Injected: 1", "subject"),
        ("alice@example.test", "nul\x00byte", "subject"),
        ("alice@example.test\r\nBcc: mallory@evil.test", "Hello", "to"),
        ("alice@example.test\nBcc: mallory@evil.test", "Hello", "to"),
        ("alice@example.test, mallory@evil.test", "Hello", "to"),
        ("Alice <alice@example.test>", "Hello", "to"),
        ("not-an-address", "Hello", "to"),
        ("", "Hello", "to"),
    ],
)
def test_header_injection_is_refused_and_nothing_reaches_the_server(
    smtp_sink: tuple[Sink, int], to: str, subject: str, field_name: str
) -> None:
    sink, port = smtp_sink
    mailer = SMTPMailer("127.0.0.1", port, SENDER)

    with pytest.raises(MailRejected) as caught:
        mailer.send(MailMessage(to, subject, "body"))

    assert caught.value.field == field_name
    assert caught.value.code == "mail_rejected"
    assert sink.received == []
    mailer.send(MailMessage("alice@example.test", "Hello", "body"))
    assert [r.rcpt_tos for r in sink.received] == [["alice@example.test"]]


def test_mailer_rechecks_a_message_whose_fields_were_forced(smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    mailer = SMTPMailer("127.0.0.1", port, SENDER)
    forged = MailMessage("alice@example.test", "Hello", "body")
    object.__setattr__(forged, "subject", "Hello\r\nBcc: mallory@evil.test")

    with pytest.raises(MailRejected):
        mailer.send(forged)

    assert sink.received == []


def test_body_lines_cannot_forge_headers_or_end_the_data_early(smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    body = "line one\r\n.\r\nMAIL FROM:<mallory@evil.test>\r\nBcc: mallory@evil.test\r\n"

    SMTPMailer("127.0.0.1", port, SENDER).send(MailMessage("alice@example.test", "Hello", body))

    [got] = sink.received
    assert got.rcpt_tos == ["alice@example.test"]
    assert got.message["Bcc"] is None
    assert "MAIL FROM:<mallory@evil.test>" in got.message.get_content()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sender": "tessera@example.test\r\nBcc: x@evil.test"},
        {"sender": "Tessera <tessera@example.test>"},
        {"port": 0},
        {"port": 70000},
        {"host": ""},
        {"username": "relay"},
        {"password": "s3cret"},
        {"host": "smtp.example.test", "username": "relay", "password": "s3cret"},
        {"timeout_seconds": 0},
    ],
)
def test_unsafe_settings_are_refused_at_construction(kwargs: dict[str, Any]) -> None:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": 2525, "sender": SENDER, **kwargs}
    with pytest.raises(ConfigurationError):
        SMTPMailer(**settings)
    assert SMTPMailer("127.0.0.1", 2525, SENDER, username="relay", password="s3cret").port == 2525
    assert SMTPMailer("smtp.example.test", 587, SENDER, starttls=True, username="u", password="p")


def test_starttls_with_login_delivers_and_a_wrong_password_is_a_typed_error(tls_sink: TLSSink) -> None:
    message = MailMessage("alice@example.test", "Over TLS", "hello")
    with pytest.raises(MailDeliveryFailed) as caught:
        tls_sink.mailer("wrong").send(message)
    assert "wrong" not in str(caught.value)
    assert tls_sink.sink.received == []

    tls_sink.mailer("s3cret").send(message)

    assert [r.rcpt_tos for r in tls_sink.sink.received] == [["alice@example.test"]]


def test_starttls_refuses_a_server_certificate_it_does_not_trust(tls_sink: TLSSink) -> None:
    untrusting = SMTPMailer(
        "127.0.0.1", tls_sink.port, SENDER, starttls=True, username="relay", password="s3cret"
    )
    with pytest.raises(MailDeliveryFailed):
        untrusting.send(MailMessage("alice@example.test", "Over TLS", "hello"))
    assert tls_sink.sink.received == []


def test_plain_mailer_cannot_send_where_starttls_is_required(tls_sink: TLSSink) -> None:
    with pytest.raises(MailDeliveryFailed):
        SMTPMailer("127.0.0.1", tls_sink.port, SENDER).send(MailMessage("a@example.test", "s", "t"))
    assert tls_sink.sink.received == []


def test_unreachable_relay_is_a_typed_error() -> None:
    with socket.socket() as bound_not_listening:
        # Held for the whole test: connections are refused, and no other process can take the port.
        bound_not_listening.bind(("127.0.0.1", 0))
        port = int(bound_not_listening.getsockname()[1])
        with pytest.raises(MailDeliveryFailed) as caught:
            SMTPMailer("127.0.0.1", port, SENDER, timeout_seconds=2).send(
                MailMessage("a@example.test", "s", "t")
            )
    assert caught.value.code == "mail_delivery_failed"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_dev_outbox_prints_framed_mail_and_lists_newest_first() -> None:
    console = io.StringIO()
    clock = FakeClock(1_800_000_000.0)
    outbox = DevOutbox(stream=console, clock=clock)

    outbox.send(MailMessage("alice@example.test", "First", "code 111111"))
    clock.now += 90
    outbox.send(MailMessage("bob@example.test", "Second", "code 222222", html="<p>ignored</p>"))

    assert outbox.messages() == [
        {
            "id": 2,
            "to": "bob@example.test",
            "subject": "Second",
            "text": "code 222222",
            "sent_at": "2027-01-15T08:01:30+00:00",
        },
        {
            "id": 1,
            "to": "alice@example.test",
            "subject": "First",
            "text": "code 111111",
            "sent_at": "2027-01-15T08:00:00+00:00",
        },
    ]
    printed = console.getvalue()
    assert printed.count("===== dev outbox: mail to ") == 2
    assert printed.count("===== end of mail =====") == 2
    assert printed.index("code 111111") < printed.index("code 222222")
    assert "Subject: Second" in printed


def test_dev_outbox_writes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    DevOutbox().send(MailMessage("alice@example.test", "Hi", "code 333333"))
    captured = capsys.readouterr()
    assert "code 333333" in captured.err
    assert captured.out == ""


def test_dev_outbox_keeps_only_the_latest_mails() -> None:
    outbox = DevOutbox(capacity=3, stream=io.StringIO())
    for n in range(5):
        outbox.send(MailMessage("alice@example.test", f"mail {n}", "t"))
    assert [m["subject"] for m in outbox.messages()] == ["mail 4", "mail 3", "mail 2"]
    with pytest.raises(ConfigurationError):
        DevOutbox(capacity=0)


def test_dev_outbox_in_a_file_is_shared_by_processes(tmp_path: Path) -> None:
    database = tmp_path / "outbox.db"
    first = DevOutbox(capacity=3, stream=io.StringIO(), database=database)
    second = DevOutbox(capacity=3, stream=io.StringIO(), database=database)
    first.send(MailMessage("alice@example.test", "from the first", "code 111111"))
    second.send(MailMessage("bob@example.test", "from the second", "code 222222"))
    assert [m["subject"] for m in first.messages()] == ["from the second", "from the first"]
    assert second.messages() == first.messages()
    for n in range(3):
        first.send(MailMessage("alice@example.test", f"mail {n}", "t"))
    assert [m["subject"] for m in second.messages()] == ["mail 2", "mail 1", "mail 0"]
    assert DevOutbox(stream=io.StringIO()).messages() == []


def test_dev_outbox_is_thread_safe() -> None:
    outbox = DevOutbox(capacity=1000, stream=io.StringIO())

    def send_many(worker: int) -> None:
        for n in range(50):
            outbox.send(MailMessage("alice@example.test", f"{worker}-{n}", "t"))

    threads = [threading.Thread(target=send_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    subjects = [m["subject"] for m in outbox.messages()]
    assert len(subjects) == 400
    assert len(set(subjects)) == 400
    for worker in range(8):
        mine = [int(s.split("-")[1]) for s in subjects if s.startswith(f"{worker}-")]
        assert mine == sorted(mine, reverse=True)


def test_dev_outbox_refuses_unsafe_mail_like_any_mailer() -> None:
    with pytest.raises(MailRejected):
        DevOutbox(stream=io.StringIO()).send(MailMessage("a@example.test\nBcc: b@evil.test", "s", "t"))


def test_credentials_smtp_cannot_encode_are_a_typed_error(tls_sink: TLSSink) -> None:
    with pytest.raises(MailDeliveryFailed) as caught:
        tls_sink.mailer("pässwörd-✓").send(MailMessage("alice@example.test", "Over TLS", "hello"))
    assert "pässwörd" not in str(caught.value)
    assert tls_sink.sink.received == []
