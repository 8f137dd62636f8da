"""Reports that wait for a person: approval before anything reaches recipients.

A definition with ``approval: {required: true}`` has its sending runs built and recorded
as 'pending_approval'; its approvers are told once per report and period; nothing goes to
recipients until an approver approves the run on the web page (which then delivers it
through the same exactly-once ledger).  A run still waiting after ``deadline_hours`` has
its owner alerted, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from reportgen import secrets
from reportgen.definition import LoadedDefinition
from reportgen.definition.document import Definition
from reportgen.delivery.alerts import OwnerAlert, alert_owner, owner_channels
from reportgen.delivery.channels import run_link
from reportgen.delivery.content import MailContent, kpi_line
from reportgen.delivery.email import send_notice
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.settings import SmtpSettings
from reportgen.text import plain, timestamp

logger = logging.getLogger(__name__)

APPROVAL_REQUEST = "approval-request"  # ledger channel: each approver is asked once


def awaits_approval(definition: Definition) -> bool:
    """Whether a sending run of ``definition`` must wait for an approver."""
    return definition.approval is not None and definition.approval.required


def request_approval(loaded: LoadedDefinition, period: Period, run_id: int, *, ledger: Ledger,
                     smtp: SmtpSettings | None, now: Callable[[], datetime],
                     environ: Mapping[str, str] | None = None,
                     public_url: str | None = None,
                     content: MailContent | None = None) -> None:
    """Tell each approver that run ``run_id`` waits for them (once per report and period),
    with its headline KPIs as the report states them (``content``, the run's message) and
    the run's page to approve it on."""
    definition = loaded.definition
    assert definition.approval is not None
    approvers = definition.approval.approvers
    if not approvers or smtp is None:
        logger.info("run #%d of %s waits for approval on the web page", run_id, definition.id)
        return
    deadline = now() + timedelta(hours=definition.approval.deadline_hours)
    where = run_link(public_url, run_id) or f"the reportgen web page, run #{run_id}"
    headline = ""
    if content is not None and content.kpis:
        headline = ("Its headline numbers, as the report states them:\n"
                    + "".join(f"- {kpi_line(k)}\n" for k in content.kpis) + "\n")
    text = (f"The {definition.title} for {period.label} is ready and waits for your approval "
            f"(run #{run_id}). Nothing has been sent to its recipients.\n\n{headline}"
            f"Preview it and approve or reject it at {where} by "
            f"{timestamp(deadline, period.timezone)}.\n")
    for approver in approvers:
        try:
            send_notice(approver, f"[approval needed] {definition.title} — {period.label}",
                        text, smtp, ledger=ledger, run_id=run_id, report_id=definition.id,
                        period=period.key, kind=APPROVAL_REQUEST, now=now, environ=environ)
        except Exception as exc:  # the run still waits; the page shows it to any approver
            logger.error("run #%d: could not ask %s for approval: %s", run_id, approver,
                         secrets.redact(str(exc)))


def may_approve(definition: Definition | None, email: str) -> bool:
    """Whether the user with ``email`` is among the definition's approvers (any, if none named)."""
    if definition is None or definition.approval is None or not definition.approval.approvers:
        return True
    return email.lower() in {a.lower() for a in definition.approval.approvers}


def alert_overdue_approvals(definitions: Iterable[Definition], *, ledger: Ledger,
                            smtp: SmtpSettings | None, now: Callable[[], datetime],
                            environ: Mapping[str, str] | None = None) -> list[RunRecord]:
    """Alert the owner of each run waiting past its approval deadline (once); return them."""
    overdue: list[RunRecord] = []
    channels = owner_channels(smtp, now=now, environ=environ)
    for definition in definitions:
        if not awaits_approval(definition):
            continue
        assert definition.approval is not None
        limit = timedelta(hours=definition.approval.deadline_hours)
        for run in ledger.history(definition.id):
            if run.status != "pending_approval" or now() - run.started_at < limit:
                continue
            overdue.append(run)
            if not definition.owner or not channels:
                logger.warning("run #%d of %s waits for approval past its deadline and no "
                               "owner can be alerted", run.id, definition.id)
                continue
            alert = OwnerAlert(
                kind="unapproved", report_id=definition.id, period=run.period,
                subject=f"[not approved] {definition.title} — {run.period}",
                text=(f"Run #{run.id} of the {definition.title} for {run.period} has waited "
                      f"for approval since {timestamp(run.started_at, definition.period.timezone)}, past its "
                      f"{plain(definition.approval.deadline_hours)}-hour deadline. Nothing has "
                      f"been sent to its recipients. Ask an approver "
                      f"({', '.join(definition.approval.approvers) or 'any approver'}) to "
                      f"approve or reject it on the web page.\n"),
                run_id=run.id)
            alert_owner(alert, definition.owner, channels, ledger=ledger)
    return overdue


def notify_rejection(definition: Definition, run: RunRecord, reason: str, rejected_by: str, *,
                     ledger: Ledger, smtp: SmtpSettings, now: Callable[[], datetime],
                     public_url: str | None = None) -> bool:
    """E-mail the report's owner that run ``run`` was rejected, with the reason (once per
    run); False when the report names no owner."""
    if not definition.owner:
        return False
    where = f"{public_url.rstrip('/')}/runs/{run.id}" if public_url else \
        f"the reportgen web page, run #{run.id}"
    text = (f"{rejected_by} rejected run #{run.id} of the {definition.title} for {run.period}. "
            f"It will not be sent to its recipients.\n\nReason: {reason}\n\n"
            f"Fix what the reason names and regenerate the period; the run is at {where}.\n")
    send_notice(definition.owner, f"[rejected] {definition.title} — {run.period}", text, smtp,
                ledger=ledger, run_id=run.id, report_id=run.report_id, period=run.period,
                kind=f"rejection-{run.id}"[:32], now=now)
    return True
