"""Delivery deadlines: ``schedule.deliver_by``, and alerting the owner once when it passes.

A deadline counts from the scheduled time of the run that makes a period's report (the
first cron time after the period ends): either a duration after it (``"6h"``, ``"90m"``)
or a local time of day in the schedule's timezone (``"09:30"``), the first one at or after
the scheduled time.  The schedule daemon checks every few minutes: a report with no
succeeded run for its period once the deadline has passed alerts its owner, once (the
ledger's alerts table keeps that promise across checks, restarts and several daemons).
A deadline more than ``LATE_LOOKBACK`` old is not alerted: it belongs to a definition
added or enabled after the fact, not to a report that someone is waiting for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.delivery.alerts import AlertChannel, OwnerAlert
    from reportgen.ledger.store import Ledger
    from reportgen.period import Period

from reportgen.definition.deadline import parse_deliver_by
from reportgen.text.dates import timestamp

logger = logging.getLogger(__name__)

LATE_LOOKBACK = timedelta(days=7)
#: how often the schedule daemon looks for late reports
CHECK_EVERY = timedelta(minutes=5)

@dataclass(frozen=True)
class DueReport:
    """The period a report should have gone out for, and when."""

    period: Period
    scheduled: datetime
    deadline: datetime


def due_report(loaded: LoadedDefinition, now: datetime) -> DueReport | None:
    """The latest period whose ``deliver_by`` deadline has passed at ``now`` (and not longer
    ago than LATE_LOOKBACK), or None when there is none to check."""
    from apscheduler.triggers.cron import CronTrigger

    from reportgen.period import Period

    definition = loaded.definition
    schedule = definition.schedule
    if schedule is None or not schedule.enabled or schedule.deliver_by is None:
        return None
    spec = parse_deliver_by(schedule.deliver_by)
    timezone = schedule.timezone or definition.period.timezone
    trigger = CronTrigger.from_crontab(schedule.cron, timezone=timezone)
    period = Period.last_complete(now, definition.period.grain, definition.period.timezone)
    scheduled = trigger.get_next_fire_time(None, period.end_at)
    if scheduled is None:
        return None
    deadline = spec.deadline(scheduled, timezone)
    if not deadline <= now <= deadline + LATE_LOOKBACK:
        return None
    return DueReport(period, scheduled, deadline)


def check_deadlines(definitions: Iterable[LoadedDefinition], *, ledger: Ledger,
                    channels: list[AlertChannel], now: datetime) -> list[OwnerAlert]:
    """Alert the owner of each report past its deadline without a succeeded run; the alerts
    sent now (each report and period is alerted at most once)."""
    from reportgen.delivery.alerts import OwnerAlert, alert_owner
    pauses = ledger.pauses
    sent: list[OwnerAlert] = []
    for loaded in definitions:
        definition = loaded.definition
        due = due_report(loaded, now)
        if due is None or not definition.owner:
            continue
        if pauses.get(definition.id) is not None:  # paused on the page: nobody waits for it
            continue
        runs = [r for r in ledger.history(definition.id) if r.period == due.period.key]
        if any(r.status == "succeeded" for r in runs):
            continue
        if runs:
            latest = runs[0]
            state = (f"Its latest run, #{latest.id} ({latest.trigger}), is {latest.status}"
                     + (f": {latest.error}" if latest.error else "") + ".")
        else:
            state = ("No run of it has been recorded: check that the schedule daemon is "
                     "running and can read the definition.")
        alert = OwnerAlert(
            kind="late", report_id=definition.id, period=due.period.key,
            subject=f"[late] {definition.title} — {due.period.label}",
            text=(f"The {definition.title} for {due.period.label} was due to go out by "
                  f"{timestamp(due.deadline)} (scheduled at "
                  f"{timestamp(due.scheduled)}, deliver_by "
                  f"'{definition.schedule.deliver_by if definition.schedule else ''}') and "
                  f"has not been delivered to all its recipients.\n\n{state}\n\n"
                  f"See 'reportgen history {definition.id}'; to send it now run "
                  f"'reportgen run --period {due.period.key} --send'.\n"),
            run_id=runs[0].id if runs else None)
        if alert_owner(alert, definition.owner, channels, ledger=ledger):
            sent.append(alert)
    return sent


def check_deadlines_job(directory: str, settings_path: str | None,
                        now: Callable[[], datetime] | None = None,
                        environ: Mapping[str, str] | None = None) -> int:
    """The schedule daemon's periodic job: load the folder's definitions and check them.

    Problems are logged, never raised; returns how many alerts were sent.
    """
    from pathlib import Path

    from reportgen import secrets
    from reportgen.definition.folder import definition_files
    from reportgen.delivery.alerts import owner_channels
    from reportgen.errors import ReportgenError
    from reportgen.ledger.store import Ledger
    from reportgen.run.pipeline import resolve_loader
    from reportgen.settings import load_settings

    settings_file = Path(settings_path) if settings_path else None
    try:
        settings = load_settings(settings_file)
    except ReportgenError as exc:
        logger.error("deadline check skipped: %s", secrets.redact(str(exc)))
        return 0
    load = resolve_loader(settings.pipeline)
    definitions: list[LoadedDefinition] = []
    for path in definition_files(Path(directory), settings_file):
        try:
            definitions.append(load(path))
        except ReportgenError:
            continue  # the definition sync reports invalid files; no second message here
    url = settings.resolved_ledger_url()
    ledger = Ledger(url, now=now) if now else Ledger(url)
    try:
        channels = owner_channels(settings.smtp, now=ledger.now, environ=environ)
        return len(check_deadlines(definitions, ledger=ledger, channels=channels,
                                   now=ledger.now()))
    except Exception as exc:  # the daemon must keep running its reports
        logger.error("deadline check failed: %s", secrets.redact(f"{type(exc).__name__}: {exc}"))
        return 0
    finally:
        ledger.close()
