"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests.

The handler can refuse chosen recipients with a given reply, require a login, call a
hook on each MAIL command (a test uses it to kill a sending process mid-delivery), and hold
a chosen message in DATA: the server has the whole message and keeps it, but does not
answer until released, so a test can kill the sender while the outcome is unknown to it.

What the server logs (aiosmtpd's ``mail.log`` and ``mail.debug``) stays with the server, in
``SmtpServer.log``: its thread outlives a test, and a handler an in-process CLI run left on
the root logger writes to that test's captured stderr, closed by the time the thread logs
a dropped connection ("--- Logging error ---" late in a run).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from reportgen.settings import SmtpSettings

#: aiosmtpd's loggers: the session's commands and errors, and its handlers' debugging
SERVER_LOGGERS = ("mail.log", "mail.debug")


class _ServerLog(logging.Handler):
    """Keeps a server's log lines in a list the test can read."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        except Exception:  # noqa: BLE001 (a log line is never worth failing the server)
            self.handleError(record)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope and parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class RecordingHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.on_mail: Callable[[int], None] | None = None
        self.mail_commands = 0
        self.logins: list[str] = []
        self._lock = threading.Lock()
        self.data_commands = 0
        self.hold_data_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def hold_in_data(self, number: int) -> None:
        """Keep the ``number``-th message (counted from now on) waiting for its reply:
        ``holding`` is set once the server has it, ``release`` lets it answer."""
        with self._lock:
            self.hold_data_at = self.data_commands + number
        self.holding.clear()
        self.release.clear()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        with self._lock:
            self.mail_commands += 1
            count = self.mail_commands
        if self.on_mail is not None:
            self.on_mail(count)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content)))
            self.data_commands += 1
            hold = self.data_commands == self.hold_data_at
        if hold:
            self.holding.set()
            # Wait off the event loop, so the server keeps serving other connections.
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 Message accepted for delivery"


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate for ``host`` and its key, as PEM files in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(host))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:``port``, started and stopped on demand.

    ``tls`` makes it require STARTTLS ("starttls") or speak TLS from the start ("tls"),
    with a self-signed certificate written to ``cert_dir`` (clients trust it via
    ``ca_file``).
    """

    def __init__(self, port: int | None = None, *, login: tuple[str, str] | None = None,
                 tls: Literal["starttls", "tls"] | None = None, cert_dir: Path | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self._login = login
        self._controller: Controller | None = None
        #: what aiosmtpd logged while this server ran (INFO and above)
        self.log: list[str] = []
        self._log_handler = _ServerLog(self.log)
        self.tls = tls
        self.ca_file: Path | None = None
        self._context: ssl.SSLContext | None = None
        if tls is not None:
            assert cert_dir is not None, "a TLS server needs a folder for its certificate"
            self.ca_file, key_file = self_signed_certificate(cert_dir, self.host)
            self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._context.load_cert_chain(self.ca_file, key_file)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self._login is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self._login)
        if ok:
            self.handler.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpServer:
        options: dict[str, Any] = {}
        if self._login is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        if self.tls == "starttls":
            options.update(tls_context=self._context, require_starttls=True)
        elif self.tls == "tls":
            options.update(ssl_context=self._context)
        for name in SERVER_LOGGERS:
            logger = logging.getLogger(name)
            # never into the root logger's handlers: they may hold a closed capture stream
            logger.propagate = False
            logger.addHandler(self._log_handler)
        # A fixed server name skips a reverse DNS lookup per start.
        self._controller = Controller(self.handler, hostname=self.host, port=self.port,
                                      server_hostname="smtp.test", **options)
        with warnings.catch_warnings():
            # Plain-text AUTH is fine on loopback; aiosmtpd warns about it in general.
            warnings.simplefilter("ignore")
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()  # joins the server's thread: nothing of it logs after
            self._controller = None
        for name in SERVER_LOGGERS:
            logging.getLogger(name).removeHandler(self._log_handler)

    @property
    def received(self) -> list[Received]:
        return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.handler.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def by_recipient(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        for item in self.received:
            for rcpt in item.rcpt_tos:
                out.setdefault(rcpt, []).append(item)
        return out


def smtp_settings(server: SmtpServer, **overrides: Any) -> SmtpSettings:
    """Settings for ``server`` with tiny timeouts and back-offs (tests inject ``sleep``)."""
    values: dict[str, Any] = {
        "host": server.host, "port": server.port, "security": "none",
        "from_address": "QA Reports <reports@example.com>", "timeout": 5, "attempts": 3,
        "backoff_seconds": 0.01, "max_backoff_seconds": 0.05,
        "local_hostname": "reportgen.test",  # no DNS lookup for the EHLO name
    }
    values.update(overrides)
    return SmtpSettings(**values)
