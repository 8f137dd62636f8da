"""The scheduler the daemon runs on (APScheduler), the job it runs for each scheduled report,
and the retry of a held run.

Jobs are stored by the function's import path (``JOB_FUNCTION``), so ``run_scheduled_job``
stays here: a job store written by an earlier version still finds it.
"""

from __future__ import annotations

import logging
from datetime import UTC
from pathlib import Path

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from reportgen import secrets
from reportgen.errors import ReportgenError
from reportgen.executors.jobs import JobOutcome, run_job, scheduled_request
from reportgen.executors.placement import InlineExecutor, executor_for
from reportgen.settings import Settings, load_settings

logger = logging.getLogger(__name__)


JOB_FUNCTION = "reportgen.executors.scheduler:run_scheduled_job"


DEADLINE_JOB_FUNCTION = "reportgen.executors.deadlines:check_deadlines_job"


DEADLINE_JOB_PREFIX = "reportgen:deliver-by:"  # ':' keeps it apart from report ids


RETENTION_JOB_FUNCTION = "reportgen.ledger.retention:prune_job"


RETENTION_JOB_PREFIX = "reportgen:retention:"


REPUBLISH_JOB_FUNCTION = "reportgen.executors.durable:republish_due"


REPUBLISH_JOB_PREFIX = "reportgen:republish:"


RETRY_MARK = ":retry:"  # retry job ids are '<report>:retry:<period>'; ':' is not in ids


class _KeepDueJobsOnShutdown:
    """APScheduler 3 runs its loop once more after ``shutdown()`` has stopped the executors:
    a job due at that moment fails to submit and is then advanced (a one-off retry job is
    even deleted) as if it had run.  Processing nothing once stopped leaves it due, so the
    next start runs it within its grace time."""

    state: int

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[misc]


class ReportBackgroundScheduler(_KeepDueJobsOnShutdown, BackgroundScheduler):
    """A BackgroundScheduler that never loses a due job on shutdown."""


class ReportBlockingScheduler(_KeepDueJobsOnShutdown, BlockingScheduler):
    """A BlockingScheduler that never loses a due job on shutdown."""


def create_scheduler(settings: Settings, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler on the persistent job store; held runs it fires book their own retry."""
    options = {
        "jobstores": {"default": SQLAlchemyJobStore(url=settings.resolved_jobstore_url())},
        "executors": {"default": ThreadPoolExecutor(max_workers=4)},
        "job_defaults": {"coalesce": True, "max_instances": 1},
        "timezone": UTC,
    }
    scheduler: BaseScheduler = (ReportBlockingScheduler(**options) if blocking
                                else ReportBackgroundScheduler(**options))

    def book_retry(event: JobExecutionEvent) -> None:
        outcome = event.retval
        if isinstance(outcome, JobOutcome) and outcome.status == "held":
            schedule_retry(scheduler, outcome)

    scheduler.add_listener(book_retry, EVENT_JOB_EXECUTED)
    return scheduler


def run_scheduled_job(definition_path: str, settings_path: str | None,
                      period_key: str | None = None, *, inline: bool = False,
                      trigger: str | None = None,
                      raise_locked: bool = False) -> JobOutcome | None:
    """The job every schedule runs: the last complete period, or ``period_key`` on a retry.

    With ``executor: celery`` (and not ``inline``, which is how a worker calls it) the run
    is put on the broker instead.  Problems are logged, never raised: the scheduler must
    keep running the other reports (``raise_locked``: a worker retries a locked run).
    """
    try:
        settings = load_settings(Path(settings_path) if settings_path else None)
    except ReportgenError as exc:
        logger.error("scheduled run of %s skipped: %s", definition_path, secrets.redact(str(exc)))
        return None
    if not inline:
        executor = executor_for(settings, settings_path)
        if executor.name != InlineExecutor.name:
            try:
                placed = executor.place(scheduled_request(definition_path, settings,
                                                          period_key, trigger))
            except ReportgenError as exc:
                logger.error("scheduled run of %s skipped: %s", definition_path,
                             secrets.redact(str(exc)))
                return None
            if placed.task_id is not None:
                logger.info("%s enqueued as task %s", definition_path, placed.task_id)
            return None
    return run_job(definition_path, settings_path, settings, period_key, trigger=trigger,
                   raise_locked=raise_locked)


def schedule_retry(scheduler: BaseScheduler, outcome: JobOutcome) -> None:
    """A one-off job at the held run's retry time (replacing an earlier one for the period)."""
    if outcome.next_retry_at is None:
        logger.warning("%s %s: retry deadline passed; no further retries",
                       outcome.report_id, outcome.period)
        return
    job_id = f"{outcome.report_id}{RETRY_MARK}{outcome.period}"
    # No misfire limit: a retry missed while the scheduler was down is still wanted.
    scheduler.add_job(JOB_FUNCTION, DateTrigger(run_date=outcome.next_retry_at),
                      args=[outcome.definition_path, outcome.settings_path, outcome.period],
                      id=job_id, name=job_id, replace_existing=True,
                      misfire_grace_time=None, coalesce=True, max_instances=1)
    logger.info("%s %s held; retry booked for %s", outcome.report_id, outcome.period,
                f"{outcome.next_retry_at:%Y-%m-%d %H:%M} UTC")
