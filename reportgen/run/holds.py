"""A run held by data-quality gates: recorded with its reasons and a retry time, and its owner
told once (and once more when retries give up).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reportgen import secrets
from reportgen.definition.schedule_specs import RetrySpec
from reportgen.delivery.alerts import NO_CHANNEL, record_outcome
from reportgen.delivery.email import send_notice
from reportgen.errors import GateFailure
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.settings import SmtpSettings
from reportgen.text.dates import timestamp

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition

logger = logging.getLogger(__name__)

HOLD_NOTICE = "hold-notice"  # ledger channel: the owner hears about a held period once
HOLD_DEADLINE = "hold-deadline"  # ... and once more when retries give up


def next_retry_at(retry: RetrySpec, *, attempt: int, first_started: datetime,
                  now: datetime) -> datetime | None:
    """When to try a held run again, or None once the deadline has passed.

    Waits grow from ``every_minutes`` by ``backoff`` per attempt up to ``max_wait_minutes``;
    the last try is made at the deadline itself rather than skipped.
    """
    deadline = first_started + timedelta(hours=retry.deadline_hours)
    if now >= deadline:
        return None
    wait = min(retry.every_minutes * retry.backoff ** max(attempt - 1, 0),
               retry.max_wait_minutes)
    return min(now + timedelta(minutes=wait), deadline)


def hold_run(loaded: LoadedDefinition, period: Period, run_id: int, held: GateFailure, *,
          ledger: Ledger, send: bool, smtp: SmtpSettings | None,
          clock: Callable[[], datetime], sleep: Callable[[float], None],
          environ: Mapping[str, str] | None) -> None:
    definition = loaded.definition
    run = ledger.get_run(run_id)
    first = ledger.first_started(definition.id, period.key) or run.started_at
    retry = definition.schedule.retry if definition.schedule else RetrySpec()
    retry_at = next_retry_at(retry, attempt=run.attempt, first_started=first, now=clock())
    reasons = "; ".join(held.reasons)
    ledger.finish_run(run_id, "held", error=reasons, next_retry_at=retry_at)
    logger.warning("run #%d: %s %s held by gates: %s; %s", run_id, definition.id, period.key,
                   reasons, f"retry at {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at
                   else "retry deadline passed, giving up")
    notify = definition.delivery.notify_owner_on_hold if definition.delivery else True
    if not (send and notify and definition.owner):
        return
    subject, text, kind = _hold_notice(definition.title, period, held.reasons, retry_at)
    owner = definition.owner

    def record(error: str | None = None, message_id: str | None = None) -> None:
        record_outcome(ledger, definition.id, period.key, kind, owner, run_id, error=error,
                       message_id=message_id)

    if smtp is None:
        record(NO_CHANNEL)
        return
    try:
        report = send_notice(owner, subject, text, smtp, ledger=ledger, run_id=run_id,
                             report_id=definition.id, period=period.key, kind=kind,
                             sleep=sleep, now=clock, environ=environ)
    except Exception as exc:  # a failed notice must not turn a hold into a failure
        record(secrets.redact(f"{type(exc).__name__}: {exc}"))
        return
    unsent = report.failed + report.unconfirmed
    if unsent:
        record("; ".join(f"{o.status}: {o.error}" for o in unsent))
    elif report.sent:
        record(message_id=report.sent[0].message_id)


def _hold_notice(title: str, period: Period, reasons: tuple[str, ...],
                 retry_at: datetime | None) -> tuple[str, str, str]:
    lines = "\n".join(f"- {r}" for r in reasons)
    if retry_at is None:
        return (f"[held, gave up] {title} — {period.label}",
                f"The {title} for {period.label} was not sent: its data did not pass the "
                f"quality gates before the retry deadline.\n\n{lines}\n\nNothing was sent "
                f"to recipients. Fix the data and run it again with 'reportgen run --send'.\n",
                HOLD_DEADLINE)
    return (f"[held] {title} — {period.label}",
            f"The {title} for {period.label} is on hold: its data did not pass the quality "
            f"gates.\n\n{lines}\n\nNothing was sent to recipients. It will be tried again "
            f"at {timestamp(retry_at, period.timezone)}, and sent once the data is complete.\n",
            HOLD_NOTICE)
