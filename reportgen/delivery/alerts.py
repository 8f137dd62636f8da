"""Owner alerts: the person responsible for a report hears when it did not go out as planned.

An alert is a short plain-text note (``OwnerAlert``) about one report and period, of one
kind: ``failed`` (the run failed), ``partial`` (some recipients were not reached, or their
delivery is unconfirmed) or ``late`` (no complete delivery by the ``deliver_by`` deadline).
Each kind is sent at most once per report, period and channel: the ledger's alerts table
claims it before sending, so a rerun or a second daemon does not repeat it.

A channel is anything with a ``name`` and a ``send(alert, to)``; e-mail is the only one so
far.  Slack or Teams plug in by implementing the same two members.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Literal, Protocol

from reportgen import secrets
from reportgen.delivery.email import check_header
from reportgen.delivery.smtp import SmtpSession, describe
from reportgen.ledger.store import Ledger, utc_now
from reportgen.settings import SmtpSettings

logger = logging.getLogger(__name__)

AlertKind = Literal["failed", "partial", "late", "unapproved"]


@dataclass(frozen=True)
class OwnerAlert:
    kind: AlertKind
    report_id: str
    period: str
    subject: str
    text: str
    run_id: int | None = None


class AlertChannel(Protocol):
    """One way to reach an owner; ``send`` returns an id for the ledger or raises."""

    name: str

    def send(self, alert: OwnerAlert, to: str) -> str | None: ...


class EmailAlerts:
    """Alerts as plain-text e-mail through the configured SMTP server (one try: an alert
    that fails is recorded as failed and may be claimed again by a later run)."""

    name = "email"

    def __init__(self, smtp: SmtpSettings, *, now: Callable[[], datetime] = utc_now,
                 environ: Mapping[str, str] | None = None):
        self.smtp, self.now, self.environ = smtp, now, environ

    def send(self, alert: OwnerAlert, to: str) -> str | None:
        message = EmailMessage()
        message["Subject"] = check_header("Subject", alert.subject)
        message["From"] = check_header("From", self.smtp.from_address)
        message["To"] = check_header("To", to)
        message["Date"] = format_datetime(self.now())
        sender = parseaddr(self.smtp.from_address)[1] or self.smtp.from_address
        message_id = make_msgid(domain=sender.rpartition("@")[2] or None)
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        message["X-Reportgen-Alert"] = check_header(
            "X-Reportgen-Alert", f"{alert.kind} {alert.report_id} {alert.period}")
        message.set_content(alert.text)
        session = SmtpSession(self.smtp, self.smtp.password(self.environ))
        try:
            session.send(message, sender, to)
        finally:
            session.close()
        return message_id


def alert_owner(alert: OwnerAlert, owner: str, channels: Sequence[AlertChannel], *,
                ledger: Ledger) -> list[str]:
    """Send ``alert`` to ``owner`` on each channel not yet used for it; the channels that
    sent it now.  A channel failure is logged and recorded, never raised: an alert must
    not turn into a second problem for the run it reports on.  With no channel at all (no
    SMTP settings) the alert is recorded as failed too, so it is never lost unseen."""
    if not channels:
        record_outcome(ledger, alert.report_id, alert.period, alert.kind, owner, alert.run_id,
                       error=NO_CHANNEL)
        return []
    delivered: list[str] = []
    for channel in channels:
        claim = ledger.claim_alert(alert.report_id, alert.period, alert.kind, channel.name,
                                   owner, alert.run_id)
        if claim is None:
            logger.info("%s %s: the owner was already alerted (%s, %s)", alert.report_id,
                        alert.period, alert.kind, channel.name)
            continue
        try:
            message_id = channel.send(alert, owner)
        except Exception as exc:
            error = secrets.redact(describe(exc))
            ledger.finish_alert(claim, error=error)
            logger.error("%s %s: could not alert the owner %s by %s: %s", alert.report_id,
                         alert.period, owner, channel.name, error)
            continue
        ledger.finish_alert(claim, message_id=message_id)
        delivered.append(channel.name)
        logger.info("%s %s: owner %s alerted (%s) by %s", alert.report_id, alert.period,
                    owner, alert.kind, channel.name)
    return delivered


#: why an alert could not go out when no channel is set up
NO_CHANNEL = "no way to reach the owner: the settings have no 'smtp' section"


def record_outcome(ledger: Ledger, report_id: str, period: str, kind: str, owner: str,
                   run_id: int | None, *, error: str | None = None,
                   message_id: str | None = None, channel: str = "email") -> None:
    """Record in the ledger's alerts table how telling the owner went (once per report,
    period, kind and channel; a failure may be recorded again); a failure is logged."""
    claim = ledger.claim_alert(report_id, period, kind, channel, owner, run_id)
    if claim is not None:
        ledger.finish_alert(claim, error=error, message_id=message_id)
    if error:
        logger.error("%s %s: could not tell the owner %s (%s): %s", report_id, period, owner,
                     kind, secrets.redact(error))


def owner_channels(smtp: SmtpSettings | None, *, now: Callable[[], datetime] = utc_now,
                   environ: Mapping[str, str] | None = None) -> list[AlertChannel]:
    """The channels alerts go out on with these settings (e-mail when SMTP is set)."""
    return [EmailAlerts(smtp, now=now, environ=environ)] if smtp is not None else []
