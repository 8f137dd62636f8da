"""One SMTP connection, opened on first use and reopened after an error, plus the rule that
tells a transient failure (try again later) from a permanent one (do not)."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING

from reportgen.settings import SmtpSettings

if TYPE_CHECKING:
    from typing_extensions import Buffer


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: no connection, timeouts, and 4xx replies."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False  # e.g. no STARTTLS: waiting will not change the server
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, (smtplib.SMTPServerDisconnected, OSError, TimeoutError))


def describe(exc: BaseException) -> str:
    """A one-line description of an SMTP failure (the server's own words when it gave any)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{addr} refused: {code} {_text(msg)}"
                         for addr, (code, msg) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SmtpSession:
    """A lazily opened connection to the configured server."""

    def __init__(self, settings: SmtpSettings, password: str | None):
        self.settings = settings
        self._password = password
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        client: smtplib.SMTP
        if s.security == "tls":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context,
                                      local_hostname=s.local_hostname)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout,
                                  local_hostname=s.local_hostname)
        try:
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.user is not None and self._password is not None:
                client.login(s.user, self._password)
        except BaseException:
            _close(client)
            raise
        return client

    def send(self, message: EmailMessage, sender: str, recipient: str, *,
             before_data: Callable[[], None] | None = None) -> None:
        """Send ``message`` to one envelope recipient; raise the smtplib error on failure.

        ``before_data`` is called after the server took the envelope (MAIL, RCPT) and just
        before the message itself (DATA): the one step after which a crash leaves the
        outcome unknown.
        """
        if self._client is None:
            self._client = self._connect()
        client = self._client
        if before_data is not None:
            # smtplib's sendmail calls self.data(); an instance attribute wraps it for
            # this message only (send_message offers no hook between RCPT and DATA).
            data = type(client).data.__get__(client)

            def announced_data(msg: Buffer | str) -> tuple[int, bytes]:
                before_data()
                return data(msg)

            client.data = announced_data  # type: ignore[method-assign]
        try:
            refused = client.send_message(message, from_addr=sender, to_addrs=[recipient])
        finally:
            if before_data is not None:
                del client.data
        if refused:  # only possible with several recipients, kept for safety
            raise smtplib.SMTPRecipientsRefused(refused)

    def reset(self) -> None:
        """Drop the connection after an error, so the next try starts clean."""
        if self._client is not None:
            _close(self._client)
            self._client = None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                _close(self._client)
            self._client = None


def _close(client: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        client.close()
