"""E-mail delivery: one message per recipient, recorded in the run ledger exactly once.

The message is composed with the standard library (``EmailMessage``): a plain-text body
with an HTML alternative showing the headline KPIs, and the report files attached.  Every
recipient (to, cc and bcc) gets a message of its own, sent to that one envelope address,
so the ledger can record each delivery separately, through the exactly-once protocol every
channel shares (``reportgen.delivery.once``): before sending, a recipient already marked as
sent is skipped; each try is counted with the message's Message-ID before it is made, the
row is marked 'sending' just before SMTP DATA, and 'sent' as soon as the server accepts.
A process that dies after two of three recipients therefore leaves only the third to send.

A process that dies while the server is taking a message leaves that recipient 'sending':
the server may have it or not.  The next run does not guess.  By default
(``on_unknown="hold"``) it leaves the recipient 'unconfirmed' and the run 'partial', and the
owner is told; the owner then decides with ``reportgen run --send --confirm-unknown``:
``sent`` records it as delivered without sending, ``resend`` sends it again with the same
Message-ID the first try carried, so mail systems and clients that deduplicate by
Message-ID show one message.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Literal

from reportgen.definition.delivery_specs import EmailSpec
from reportgen.delivery.content import MailContent, render_bodies
from reportgen.delivery.headers import HeaderInjectionError as HeaderInjectionError
from reportgen.delivery.headers import check_header as check_header
from reportgen.delivery.headers import render_subject as render_subject
from reportgen.delivery.once import DeliveryReport as DeliveryReport
from reportgen.delivery.once import Destination, Send, SendError, send_once, settled
from reportgen.delivery.once import RecipientOutcome as RecipientOutcome
from reportgen.delivery.once import UnknownOutcome as UnknownOutcome
from reportgen.delivery.smtp import SmtpSession, describe, is_transient
from reportgen.errors import DeliveryError
from reportgen.ledger.records import Purpose
from reportgen.ledger.store import Ledger, utc_now
from reportgen.report.model.report_model import Artifact
from reportgen.settings import SmtpSettings

logger = logging.getLogger(__name__)

CHANNEL = "email"
Role = Literal["to", "cc", "bcc"]
MIME_TYPES: Mapping[str, tuple[str, str]] = {
    "pdf": ("application", "pdf"),
    "pptx": ("application", "vnd.openxmlformats-officedocument.presentationml.presentation"),
}


class AttachmentTooLarge(DeliveryError):
    def __init__(self, path: str, size: int, limit_mb: float):
        self.path, self.size, self.limit_mb = path, size, limit_mb
        super().__init__(
            f"attachment {path} is {size / 1_048_576:.1f} MB ({size} bytes), over the "
            f"{limit_mb:g} MB limit (delivery.email.max_attachment_mb); raise the limit or "
            f"attach fewer formats")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    format: str


def load_attachments(artifacts: Sequence[Artifact], formats: Sequence[str],
                     limit_mb: float) -> list[Attachment]:
    """Read the artifacts of ``formats``; refuse oversized or changed files before sending."""
    chosen: list[Attachment] = []
    for fmt in formats:
        matches = [a for a in artifacts if a.format == fmt]
        if not matches:
            have = ", ".join(sorted({a.format for a in artifacts})) or "none"
            raise DeliveryError(f"delivery.email.attach lists '{fmt}' but the run produced no "
                                f"{fmt} file (produced: {have}); add it to outputs")
        for artifact in matches:
            path = Path(artifact.path)
            size = path.stat().st_size
            if size > limit_mb * 1_048_576:
                raise AttachmentTooLarge(str(path), size, limit_mb)
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != artifact.sha256:
                raise DeliveryError(f"{path} changed after it was rendered (its sha256 no "
                                    f"longer matches the ledger); run the report again")
            chosen.append(Attachment(check_header("filename", path.name), data, fmt))
    return chosen


def compose(content: MailContent, spec: EmailSpec, sender: str, attachments: Sequence[Attachment],
            *, message_id: str, date: datetime, to: Sequence[str] | None = None) -> EmailMessage:
    """The message all recipients of one send share (bcc addresses never appear in it).

    ``to`` replaces the definition's to/cc (a resend to one person).
    """
    message = EmailMessage()
    message["Subject"] = render_subject(spec.subject, content)
    message["From"] = check_header("From", sender)
    visible_to = list(to) if to is not None else list(spec.to)
    message["To"] = ", ".join(check_header("To", a) for a in visible_to)
    if to is None and spec.cc:
        message["Cc"] = ", ".join(check_header("Cc", a) for a in spec.cc)
    if spec.reply_to:
        message["Reply-To"] = check_header("Reply-To", spec.reply_to)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to reports
    message["X-Reportgen-Report"] = check_header(
        "X-Reportgen-Report", f"{content.report_id} {content.period_key}")
    text, html = render_bodies(content, [a.filename for a in attachments])
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, subtype = MIME_TYPES.get(item.format, ("application", "octet-stream"))
        message.add_attachment(item.data, maintype=maintype, subtype=subtype,
                               filename=item.filename)
    return message


def recipients_of(spec: EmailSpec) -> list[tuple[str, Role]]:
    """Every recipient once, in to, cc, bcc order (an address in two lists counts once)."""
    seen: set[str] = set()
    out: list[tuple[str, Role]] = []
    lists: tuple[tuple[Role, list[str]], ...] = (("to", spec.to), ("cc", spec.cc),
                                                  ("bcc", spec.bcc))
    for role, addresses in lists:
        for address in addresses:
            if address.lower() not in seen:
                seen.add(address.lower())
                out.append((address, role))
    return out


def deliver_email(content: MailContent, artifacts: Sequence[Artifact], spec: EmailSpec,
                  smtp: SmtpSettings, *, ledger: Ledger, run_id: int,
                  resend_to: Sequence[str] | None = None, resend: bool = False,
                  sleep: Callable[[float], None] = time.sleep,
                  now: Callable[[], datetime] = utc_now,
                  environ: Mapping[str, str] | None = None,
                  on_unknown: UnknownOutcome = "hold",
                  before_send: Callable[[], None] | None = None) -> DeliveryReport:
    """Send the report to each recipient not yet recorded as sent for this report and period.

    ``resend`` bypasses that check on purpose and records new delivery rows; ``resend_to``
    sends to those addresses instead of the definition's recipients (implies a resend).
    Transient failures are retried with exponential back-off (``sleep`` waits); permanent
    ones are recorded for the recipient and not retried.  ``on_unknown`` decides what
    happens to a recipient whose earlier send has no known outcome (see the module notes);
    ``before_send`` runs before every try and may raise to stop (a lost run lock).
    """
    resend = resend or resend_to is not None
    attachments = load_attachments(artifacts, spec.attach, spec.max_attachment_mb)
    sender = smtp.from_address
    targets: list[str] = (
        [a for a, _ in recipients_of(spec)] if resend_to is None else list(resend_to))
    # Compose once up front: header problems surface before anything is sent to anyone.
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message_ids = {r: make_msgid(domain=domain) for r in targets}
    messages = {r: compose(content, spec, sender, attachments, message_id=message_ids[r],
                           date=now(), to=resend_to) for r in targets}
    purpose: Purpose = "resend" if resend else "delivery"
    return _send_each(messages, smtp, ledger=ledger, run_id=run_id,
                      report_id=content.report_id, period=content.period_key,
                      channel=CHANNEL, purpose=purpose, sleep=sleep, environ=environ,
                      on_unknown=on_unknown, before_send=before_send)


def send_notice(to: str, subject: str, text: str, smtp: SmtpSettings, *, ledger: Ledger,
                run_id: int, report_id: str, period: str, kind: str,
                sleep: Callable[[float], None] = time.sleep,
                now: Callable[[], datetime] = utc_now,
                environ: Mapping[str, str] | None = None) -> DeliveryReport:
    """A plain-text notice to one person (e.g. the owner of a held report), sent at most
    once per report, period and ``kind`` (the ledger channel it is recorded under)."""
    message = EmailMessage()
    message["Subject"] = check_header("Subject", subject)
    message["From"] = check_header("From", smtp.from_address)
    message["To"] = check_header("To", to)
    message["Date"] = format_datetime(now())
    domain = parseaddr(smtp.from_address)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    # A notice whose outcome is unknown is sent again (same Message-ID): a possible second
    # copy of a notice is better than an owner who was never told.
    return _send_each({to: message}, smtp, ledger=ledger, run_id=run_id, report_id=report_id,
                      period=period, channel=kind, purpose="notice", sleep=sleep,
                      environ=environ, on_unknown="resend")


def _send_each(messages: Mapping[str, EmailMessage], smtp: SmtpSettings, *, ledger: Ledger,
               run_id: int, report_id: str, period: str, channel: str, purpose: Purpose,
               sleep: Callable[[float], None],
               environ: Mapping[str, str] | None, on_unknown: UnknownOutcome = "hold",
               before_send: Callable[[], None] | None = None) -> DeliveryReport:
    outcomes: list[RecipientOutcome] = []
    pending: list[Destination] = []
    for recipient in messages:
        to = Destination(ledger, run_id, report_id, period, channel, recipient, purpose)
        done = settled(to, on_unknown)
        if done is None:
            pending.append(to)
        else:
            outcomes.append(done)
    if not pending:
        return DeliveryReport(tuple(outcomes))
    envelope_from = parseaddr(smtp.from_address)[1] or smtp.from_address
    session = SmtpSession(smtp, smtp.password(environ))
    try:
        for to in pending:
            message = messages[to.recipient]

            def reference(_row: int, m: EmailMessage = message) -> str:
                return str(m["Message-ID"])

            outcomes.append(send_once(
                to, _smtp_send(session, message, envelope_from, to.recipient),
                reference=reference,
                attempts=smtp.attempts, backoff=smtp.backoff, sleep=sleep,
                before_send=before_send))
    except BaseException:
        # Interrupted, possibly mid-DATA: a polite QUIT would wait for the server's answer.
        session.reset()
        raise
    session.close()
    return DeliveryReport(tuple(outcomes))


def _smtp_send(session: SmtpSession, message: EmailMessage, envelope_from: str,
               recipient: str) -> Send:
    """One SMTP try of ``message``, as the exactly-once protocol's ``send``."""
    def send(message_id: str, sending: Callable[[], None]) -> str:
        if message["Message-ID"] != message_id:
            # An earlier try carried another id: every copy of one delivery shares the first.
            message.replace_header("Message-ID", message_id)
        try:
            session.send(message, envelope_from, recipient, before_data=sending)
        except Exception as exc:  # classified below; anything unexpected is re-raised
            session.reset()
            if not isinstance(exc, (smtplib.SMTPException, OSError)):
                raise  # not a delivery failure but a bug: let it surface
            raise SendError(describe(exc), permanent=not is_transient(exc)) from None
        return message_id

    return send
