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
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

import pydantic
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
from reportgen.errors import ReportgenError
from reportgen.period import Period
from reportgen.retention import prune_after_run
from reportgen.runner import LoadFn, resolve_loader, resolve_pipeline, run_fanout, run_report
from reportgen.runs import Ledger, RunLocked, RunStatus
from reportgen.settings import Settings, load_settings

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition

logger = logging.getLogger(__name__)

JOB_FUNCTION = "reportgen.scheduling:run_scheduled_job"
DEADLINE_JOB_FUNCTION = "reportgen.deadlines:check_deadlines_job"
DEADLINE_JOB_PREFIX = "reportgen:deliver-by:"  # ':' keeps it apart from report ids
RETENTION_JOB_FUNCTION = "reportgen.retention:prune_job"
RETENTION_JOB_PREFIX = "reportgen:retention:"
RETRY_MARK = ":retry:"  # retry job ids are '<report>:retry:<period>'; ':' is not in ids
DEFINITION_PATTERNS = ("*.yaml", "*.yml")


@dataclass(frozen=True)
class JobOutcome:
    """What a scheduled job returns; the scheduler reads it to book a retry of a held run."""

    report_id: str
    period: str
    run_id: int
    status: RunStatus
    next_retry_at: datetime | None
    definition_path: str
    settings_path: str | None


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
        settings.duckdb.apply(settings.base_dir)
        if settings.executor == "celery" and not inline:
            from reportgen.executors.celery_app import enqueue_run

            task = enqueue_run(settings, definition_path, settings_path, period_key,
                               trigger=trigger, report_id=Path(definition_path).stem)
            logger.info("%s enqueued as task %s", definition_path, task)
            return None
        pipeline = resolve_pipeline(settings.pipeline)
        loaded = pipeline.load(Path(definition_path))
    except ReportgenError as exc:
        logger.error("scheduled run of %s skipped: %s", definition_path, secrets.redact(str(exc)))
        return None
    spec = loaded.definition.period
    ledger = Ledger(settings.resolved_ledger_url())
    try:
        if period_key is not None:
            period = Period.parse(period_key, spec.grain, spec.timezone)
            trigger = trigger or "retry"
        else:
            period = Period.last_complete(ledger.now(), spec.grain, spec.timezone)
            trigger = trigger or "schedule"
            done = [r for r in ledger.history(loaded.definition.id)
                    if r.period == period.key and r.status == "succeeded"]
            if done:
                logger.info("%s %s already succeeded in run #%d; scheduled run skipped",
                            loaded.definition.id, period.key, done[0].id)
                return None
        if loaded.definition.fan_out is not None:
            record = run_fanout(loaded, period, trigger=trigger,  # type: ignore[arg-type]
                                ledger=ledger, out_dir=settings.resolved_out_dir(),
                                send=settings.send, smtp=settings.smtp,
                                domains=settings.allowed_domains, jobs=settings.jobs,
                                lock_ttl=timedelta(minutes=settings.lock_minutes),
                                public_url=settings.web.public_url)
        else:
            record = run_report(loaded, period, trigger=trigger,  # type: ignore[arg-type]
                                ledger=ledger, out_dir=settings.resolved_out_dir(),
                                send=settings.send, smtp=settings.smtp, build=pipeline.build,
                                render=pipeline.render,
                                lock_ttl=timedelta(minutes=settings.lock_minutes),
                                public_url=settings.web.public_url)
    except RunLocked as exc:
        if raise_locked:
            raise
        logger.warning("%s", exc)
        return None
    except ReportgenError as exc:  # a refused fan-out mapping: recorded, logged, not raised
        logger.error("run of %s refused: %s", definition_path, secrets.redact(str(exc)))
        return None
    else:
        prune_after_run(settings, ledger)
    finally:
        ledger.close()
    return JobOutcome(record.report_id, record.period, record.id, record.status,
                      record.next_retry_at, definition_path, settings_path)


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


def _definition_files(directory: Path, settings_path: Path | None) -> list[Path]:
    """The YAML files in ``directory``, less the settings file if it is kept there too."""
    found = {p.resolve() for pattern in DEFINITION_PATTERNS for p in directory.glob(pattern)}
    if settings_path is not None:
        found.discard(settings_path.resolve())
    return sorted(found)


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
    for path in _definition_files(directory, settings_path):
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


# Invalid files already reported, by content hash: the daemon re-reads the folder every
# minute and should say each problem once, not once a minute.
_invalid_reported: dict[str, str] = {}

#: Bytes of a file hashed to tell whether it changed (the loader refuses larger files).
_HASH_LIMIT = 2_000_000


def _file_digest(path: Path) -> str:
    try:
        stat = path.stat()
        if not path.is_file():  # a FIFO or device would block or never end
            return f"special:{stat.st_mode}:{stat.st_mtime_ns}"
        with path.open("rb") as fh:
            head = fh.read(_HASH_LIMIT)
    except OSError:
        return ""
    return f"{stat.st_size}:{hashlib.sha256(head).hexdigest()}"


def _report_invalid(path: Path, problem: str, settings_path: Path | None) -> bool:
    """Log an invalid definition once per version of the file, and tell its owner.

    Returns True when this version of the file had not been reported yet.
    """
    digest = _file_digest(path)
    if _invalid_reported.get(str(path)) == digest:
        logger.debug("%s is still invalid", path)
        return False
    _invalid_reported[str(path)] = digest
    text = secrets.redact(problem)
    logger.error("%s", text)
    owner = _owner_of(path)
    if owner is None:
        logger.info("%s: no valid owner address in the file; the problem is only logged", path)
        return True
    try:
        settings = load_settings(settings_path)
    except ReportgenError as exc:
        logger.error("cannot tell %s about %s: %s", owner, path, secrets.redact(str(exc)))
        return True
    if settings.smtp is None or not settings.send:
        logger.info("%s: no SMTP settings (or sending is off); owner %s not told", path, owner)
        return True
    try:
        _send_invalid_notice(owner, path, text, settings)
    except Exception as exc:  # a failed notice must not stop the scheduler
        logger.error("could not tell %s that %s is invalid: %s", owner, path,
                     secrets.redact(str(exc)))
    else:
        logger.info("told %s that %s is invalid", owner, path)
    return True


def _owner_of(path: Path) -> str | None:
    """The ``owner`` address written in a definition, if the file parses that far."""
    from reportgen.definition.models import Address
    from reportgen.definition.yaml_loader import load_yaml

    try:
        data = load_yaml(path).data
    except Exception:  # nothing to go on: the problem is logged, not mailed
        return None
    owner = data.get("owner")
    if not isinstance(owner, str):
        return None
    try:
        return str(pydantic.TypeAdapter(Address).validate_python(owner))
    except pydantic.ValidationError:
        return None


def _send_invalid_notice(owner: str, path: Path, problem: str, settings: Settings) -> None:
    from reportgen.delivery.email import check_header
    from reportgen.delivery.smtp import SmtpSession

    smtp = settings.smtp
    assert smtp is not None
    message = EmailMessage()
    message["Subject"] = check_header("Subject", f"[not scheduled] {path.name} is invalid")
    message["From"] = check_header("From", smtp.from_address)
    message["To"] = check_header("To", owner)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=parseaddr(smtp.from_address)[1]
                                       .rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"The report definition {path} cannot be scheduled, so it will not run until it is "
        f"fixed. The other reports keep their schedules.\n\n{problem}\n\n"
        f"Check a fix with 'reportgen validate {path}'; the scheduler picks it up on its "
        f"next read of the folder.\n")
    session = SmtpSession(smtp, smtp.password())
    try:
        session.send(message, parseaddr(smtp.from_address)[1] or smtp.from_address, owner)
    finally:
        session.close()


def _pipeline_module(settings_path: Path | None) -> str | None:
    return load_settings(settings_path).pipeline if settings_path else None


def describe_schedule(directory: Path, now: datetime, *, settings_path: Path | None = None,
                      load: LoadFn | None = None) -> list[ScheduleRow]:
    """Each scheduled definition's next run (local to its cron zone) and the period it makes.

    A definition that cannot be scheduled gets a row with its located ``error`` instead.
    """
    load = load or resolve_loader(_pipeline_module(settings_path))
    rows: list[ScheduleRow] = []
    for path in _definition_files(directory, settings_path):
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
    (``reportgen.deadlines``); it runs once at start, then every few minutes."""
    from reportgen.deadlines import CHECK_EVERY

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
    """The daily pass that prunes old runs' files (``reportgen.retention``); runs at start."""
    from reportgen.retention import PRUNE_EVERY

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
