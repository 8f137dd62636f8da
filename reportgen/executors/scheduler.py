"""A thin APScheduler 3.x adapter: one cron job per report definition, in a persistent store.

Jobs live in a SQLAlchemy job store (a SQLite file next to the ledger by default), so a
scheduler that was down still knows what it owes: a fire time missed within the
definition's ``grace_minutes`` runs once when it is back (``coalesce``), not once per
missed tick.  Jobs must survive pickling, so each refers to ``run_scheduled_job`` by its
import path and carries only file paths; everything else is read when the job runs.
``max_instances=1`` stops overlap inside one scheduler, the ledger lock across several.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from reportgen import secrets
from reportgen.definition.folder import definition_files
from reportgen.errors import ReportgenError
from reportgen.executors.deadlines import CHECK_EVERY
from reportgen.executors.invalid import _invalid_reported, _report_invalid
from reportgen.executors.jobs import JobOutcome, run_job
from reportgen.period import Period
from reportgen.run.pipeline import LoadFn, resolve_loader
from reportgen.settings import Settings, load_settings

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition

logger = logging.getLogger(__name__)

JOB_FUNCTION = "reportgen.executors.scheduler:run_scheduled_job"
DEADLINE_JOB_FUNCTION = "reportgen.executors.deadlines:check_deadlines_job"
DEADLINE_JOB_PREFIX = "reportgen:deliver-by:"  # ':' keeps it apart from report ids
RETENTION_JOB_FUNCTION = "reportgen.ledger.retention:prune_job"
RETENTION_JOB_PREFIX = "reportgen:retention:"
RETRY_MARK = ":retry:"  # retry job ids are '<report>:retry:<period>'; ':' is not in ids


@dataclass(frozen=True)
class ScheduleRow:
    """One line of ``schedule --list``."""

    report_id: str
    cron: str
    timezone: str
    next_run_local: datetime | None
    next_period: str | None
    path: str = ""
    error: str | None = None  # set for a definition that cannot be scheduled, and why


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


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
    if settings.executor == "celery" and not inline:
        from reportgen.executors.celery_app import enqueue_run

        try:
            task = enqueue_run(settings, definition_path, settings_path, period_key,
                               trigger=trigger, report_id=Path(definition_path).stem)
        except ReportgenError as exc:
            logger.error("scheduled run of %s skipped: %s", definition_path,
                         secrets.redact(str(exc)))
            return None
        logger.info("%s enqueued as task %s", definition_path, task)
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


def _trigger(cron: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=timezone)


def sync_definitions(scheduler: BaseScheduler, directory: Path, *,
                     settings_path: Path | None = None,
                     load: LoadFn | None = None) -> SyncResult:
    """Make the scheduler's jobs match the definitions in ``directory``.

    New or changed definitions (by file hash) are added or replaced, jobs whose file is
    gone are removed with their pending retries.  Each file is loaded and scheduled on
    its own: an invalid one (whatever is wrong with it) is reported once with its
    file:line problems and skipped, keeping its previous job until it is fixed, while the
    others keep their schedules.
    """
    load = load or resolve_loader(_pipeline_module(settings_path))
    result = SyncResult()
    settings_arg = str(settings_path.resolve()) if settings_path else None
    present: set[str] = set()
    claimed: dict[str, str] = {}
    newly_invalid: list[str] = []
    for path in definition_files(directory, settings_path):
        present.add(str(path))
        try:
            loaded = load(path)
        # A loader (ours, or a plugin's) must never take the daemon down with it.
        except Exception as exc:
            if _report_invalid(path, _describe(exc), settings_path):
                newly_invalid.append(str(path))
            result.invalid.append(str(path))
            continue
        definition = loaded.definition
        if definition.id in claimed:
            problem = (f"{path}: report id '{definition.id}' is already used by "
                       f"{claimed[definition.id]}; file skipped")
            if _report_invalid(path, problem, settings_path):
                newly_invalid.append(str(path))
            result.invalid.append(str(path))
            continue
        claimed[definition.id] = str(path)
        try:
            outcome = _schedule_one(scheduler, loaded, path, settings_arg)
        except Exception as exc:  # e.g. a definition from a loader that skips validation
            if _report_invalid(path, f"{path}: cannot be scheduled: {_describe(exc)}",
                               settings_path):
                newly_invalid.append(str(path))
            result.invalid.append(str(path))
            continue
        _invalid_reported.pop(str(path), None)
        if outcome is not None:
            getattr(result, outcome).append(definition.id)
    base = str(directory.resolve())
    for job in scheduler.get_jobs():
        job_path = str(job.args[0]) if job.args else ""
        report_id = job.id.split(RETRY_MARK)[0]
        from_here = str(Path(job_path).parent) == base
        if from_here and job_path not in present and report_id not in claimed:
            scheduler.remove_job(job.id)
            result.removed.append(job.id)
    for gone in [p for p in _invalid_reported if str(Path(p).parent) == base
                 and p not in present]:
        del _invalid_reported[gone]
    if result.changed or newly_invalid:
        logger.info("definitions synced: added %s, updated %s, removed %s, invalid %s",
                    result.added, result.updated, result.removed, result.invalid)
    return result


def _schedule_one(scheduler: BaseScheduler, loaded: LoadedDefinition, path: Path,
                  settings_arg: str | None) -> str | None:
    """Add, replace or remove the job of one valid definition; the SyncResult list it
    belongs to ('added', 'updated', 'removed', 'unchanged'), or None."""
    definition = loaded.definition
    schedule = definition.schedule
    existing = scheduler.get_job(definition.id)
    if schedule is None or not schedule.enabled:
        if existing is not None:
            scheduler.remove_job(definition.id)
            return "removed"
        return None
    args = [str(path), settings_arg]
    name = f"{definition.id} {loaded.hash}"
    if existing is not None and existing.name == name and list(existing.args) == args:
        return "unchanged"
    timezone = schedule.timezone or definition.period.timezone
    scheduler.add_job(JOB_FUNCTION, _trigger(schedule.cron, timezone), args=args,
                      id=definition.id, name=name, replace_existing=True,
                      misfire_grace_time=max(1, int(schedule.grace_minutes * 60)),
                      coalesce=True, max_instances=1)
    return "updated" if existing is not None else "added"


def _describe(exc: BaseException) -> str:
    """An error's located message; unexpected errors also say what they were."""
    if isinstance(exc, ReportgenError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _pipeline_module(settings_path: Path | None) -> str | None:
    return load_settings(settings_path).pipeline if settings_path else None


def describe_schedule(directory: Path, now: datetime, *, settings_path: Path | None = None,
                      load: LoadFn | None = None) -> list[ScheduleRow]:
    """Each scheduled definition's next run (local to its cron zone) and the period it makes.

    A definition that cannot be scheduled gets a row with its located ``error`` instead.
    """
    load = load or resolve_loader(_pipeline_module(settings_path))
    rows: list[ScheduleRow] = []
    for path in definition_files(directory, settings_path):
        try:
            rows.extend(_describe_one(load(path), path, now))
        except Exception as exc:  # one bad file must not hide the others
            rows.append(ScheduleRow(path.stem, "", "", None, None, str(path),
                                    error=secrets.redact(_describe(exc))))
    return rows


def _describe_one(loaded: LoadedDefinition, path: Path, now: datetime) -> list[ScheduleRow]:
    definition = loaded.definition
    if definition.schedule is None:
        return []
    timezone = definition.schedule.timezone or definition.period.timezone
    next_run: datetime | None = None
    next_period: str | None = None
    if definition.schedule.enabled:
        next_run = _trigger(definition.schedule.cron, timezone).get_next_fire_time(None, now)
    if next_run is not None:
        next_period = Period.last_complete(next_run, definition.period.grain,
                                           definition.period.timezone).key
    return [ScheduleRow(definition.id, definition.schedule.cron, timezone, next_run,
                        next_period, str(path))]


def add_deadline_check(scheduler: BaseScheduler, directory: Path,
                       settings_path: Path | None) -> None:
    """The periodic job that alerts owners of reports not delivered by ``deliver_by``
    (``reportgen.executors.deadlines``); it runs once at start, then every few minutes."""

    settings_arg = str(settings_path.resolve()) if settings_path else None
    folder = str(directory.resolve())
    # One per folder, so daemons on other folders sharing the job store keep theirs.
    job_id = DEADLINE_JOB_PREFIX + hashlib.sha256(folder.encode()).hexdigest()[:12]
    scheduler.add_job(DEADLINE_JOB_FUNCTION, IntervalTrigger(seconds=CHECK_EVERY.total_seconds()),
                      args=[folder, settings_arg], id=job_id,
                      name=job_id, replace_existing=True, coalesce=True,
                      max_instances=1, next_run_time=datetime.now(UTC),
                      misfire_grace_time=int(CHECK_EVERY.total_seconds()))


def add_retention_job(scheduler: BaseScheduler, settings_path: Path | None) -> None:
    """The daily pass that prunes old runs' files (``reportgen.ledger.retention``); runs at start."""
    from reportgen.ledger.retention import PRUNE_EVERY

    settings_arg = str(settings_path.resolve()) if settings_path else None
    job_id = RETENTION_JOB_PREFIX + hashlib.sha256(
        (settings_arg or "").encode()).hexdigest()[:12]
    scheduler.add_job(RETENTION_JOB_FUNCTION, IntervalTrigger(seconds=PRUNE_EVERY.total_seconds()),
                      # a keyword, so re-reading the definitions never takes it for one
                      kwargs={"settings_path": settings_arg}, id=job_id, name=job_id,
                      replace_existing=True,
                      coalesce=True, max_instances=1, next_run_time=datetime.now(UTC),
                      misfire_grace_time=int(PRUNE_EVERY.total_seconds()))


def log_next_runs(scheduler: BaseScheduler) -> None:
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.id):
        when = job.next_run_time
        logger.info("job %s: next run %s", job.id,
                    when.isoformat() if when else "never (paused or finished)")


#: How often the daemon's main thread wakes to run a signal handler delivered elsewhere.
SIGNAL_POLL_SECONDS = 0.5


def stop_on_signals(stop_event: threading.Event,
                    signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
    """Set ``stop_event`` when one of ``signals`` arrives; call from the main thread.

    The handler hands ``set()`` to a short-lived thread instead of calling it itself:
    Python runs handlers in the main thread between bytecodes, and a main thread that is
    inside ``stop_event.wait()`` may hold the event's (non-reentrant) lock at that moment,
    so a ``set()`` made in the handler would wait for that lock for ever.
    """
    def handler(signum: int, frame: object) -> None:
        threading.Thread(target=stop_event.set, name="reportgen-stop", daemon=True).start()

    for sig in signals:
        signal.signal(sig, handler)


def run_daemon(directory: Path, settings_path: Path | None, *, stop_event: threading.Event,
               sync_seconds: float | None = None,
               on_started: Callable[[BaseScheduler], None] | None = None) -> None:
    """Run the scheduler until ``stop_event`` is set, re-reading ``directory`` periodically.

    The caller owns signals: a SIGTERM/SIGINT handler only has to ``stop_event.set()``;
    running jobs are then waited for and the scheduler shut down cleanly.
    """
    settings = load_settings(settings_path)
    scheduler = create_scheduler(settings)
    # Paused until synced, so a job whose definition was deleted while down never fires.
    scheduler.start(paused=True)
    try:
        sync_definitions(scheduler, directory, settings_path=settings_path)
        add_deadline_check(scheduler, directory, settings_path)
        if settings.retention.active:
            add_retention_job(scheduler, settings_path)
        scheduler.resume()
        interval = sync_seconds if sync_seconds is not None else settings.sync_seconds
        logger.info("scheduler started: %s, re-read every %gs; job store %s", directory,
                    interval, settings.resolved_jobstore_url())
        log_next_runs(scheduler)
        if on_started is not None:
            on_started(scheduler)
        next_sync = time.monotonic() + interval
        # Short waits: the kernel may hand SIGTERM to one of the scheduler's threads, and
        # Python then runs the handler only when the main thread next wakes; a wait of the
        # whole sync interval would leave the daemon deaf to it for that long.
        while not stop_event.wait(min(SIGNAL_POLL_SECONDS, interval)):
            if time.monotonic() < next_sync:
                continue
            next_sync = time.monotonic() + interval
            if sync_definitions(scheduler, directory, settings_path=settings_path).changed:
                log_next_runs(scheduler)
    finally:
        logger.info("scheduler stopping; waiting for running jobs")
        scheduler.shutdown(wait=True)
        logger.info("scheduler stopped")
