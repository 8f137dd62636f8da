"""Putting runs on the broker so that none is lost when the broker is down.

Each run is recorded ``queued`` in the run ledger's outbox (``ledger.outbox``) before it is
published.  A publish that cannot reach the broker leaves the row queued with the time of
its next attempt, backing off from ``FIRST_RETRY`` to ``LAST_RETRY``; the schedule daemon
looks for due rows every ``REPUBLISH_EVERY`` and publishes them again.  A published row is
never published again, so a run fired once runs once (and should a worker take it twice,
the ledger's run lock and its delivery record still send each recipient one message).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen import secrets
from reportgen.executors.broker import BrokerUnavailable, enqueue_run
from reportgen.text.dates import timestamp

if TYPE_CHECKING:
    from reportgen.ledger.outbox import EnqueuedRun
    from reportgen.ledger.store import Ledger
    from reportgen.settings import Settings

logger = logging.getLogger("reportgen.executors.scheduler")

#: how often the schedule daemon publishes again the runs the broker refused
REPUBLISH_EVERY = timedelta(seconds=30)
#: published rows are kept this long, for the record, then forgotten
KEEP_PUBLISHED = timedelta(days=30)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class Published:
    """An enqueued run: its outbox row, and the broker's task id once it is published."""

    enqueued_id: int
    task_id: str | None


def backoff(attempts: int) -> timedelta:
    """The wait before the next publish after ``attempts`` failed ones: doubling, capped."""
    return min(FIRST_RETRY * (2 ** min(max(0, attempts - 1), 16)), LAST_RETRY)


def publish(settings: Settings, settings_path: str | None, definition_path: str,
            period: str | None, trigger: str | None, report_id: str, *,
            options: dict[str, Any] | None = None) -> Published:
    """Record the run in the ledger, then put it on the broker (or keep it for later)."""
    from reportgen.ledger.store import Ledger

    ledger = Ledger(settings.resolved_ledger_url())
    try:
        row = ledger.outbox.add(report_id, definition_path, settings_path, period, trigger,
                                options)
        return attempt(settings, ledger, row)
    finally:
        ledger.close()


def attempt(settings: Settings, ledger: Ledger, row: EnqueuedRun) -> Published:
    """One publish of a queued row; on a broker outage the row waits for its next attempt."""
    try:
        task = enqueue_run(settings, row.definition_path, row.settings_path, row.period,
                           trigger=row.trigger, report_id=row.report_id, options=row.options)
    except BrokerUnavailable as exc:
        retry_at = ledger.now() + backoff(row.attempts + 1)
        ledger.outbox.deferred(row.id, exc.problem, retry_at)
        logger.warning("%s: %s; the run is kept queued in the run ledger (#%d) and published "
                       "again from %s", row.report_id, secrets.redact(exc.problem), row.id,
                       timestamp(retry_at))
        return Published(row.id, None)
    ledger.outbox.published(row.id, task)
    if row.attempts:
        logger.info("%s: published as task %s after %d failed attempt(s)", row.report_id, task,
                    row.attempts)
    return Published(row.id, task)


def republish_due(settings_path: str | None = None, *,
                  now: Callable[[], datetime] | None = None) -> int:
    """The daemon's job: publish every queued run whose next attempt is due; how many went
    (``now``: the clock, the ledger's by default).  The pass stops at the first refusal, so a
    broker outage costs one publish attempt per pass, not one per queued run."""
    from reportgen.errors import ReportgenError
    from reportgen.ledger.store import Ledger
    from reportgen.settings import load_settings

    try:
        settings = load_settings(Path(settings_path) if settings_path else None)
    except ReportgenError as exc:
        logger.error("publishing queued runs skipped: %s", secrets.redact(str(exc)))
        return 0
    if settings.executor != "celery":
        return 0
    url = settings.resolved_ledger_url()
    ledger = Ledger(url, now=now) if now is not None else Ledger(url)
    try:
        ledger.outbox.forget_published(ledger.now() - KEEP_PUBLISHED)
        published = 0
        for row in ledger.outbox.due():
            if attempt(settings, ledger, row).task_id is None:
                break  # the broker is still down: the rest stay due for the next pass
            published += 1
        return published
    finally:
        ledger.close()
