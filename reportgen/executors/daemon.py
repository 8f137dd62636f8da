"""The schedule daemon: the scheduler started with every definition's job, the delivery-deadline
and retention jobs beside them, and a clean stop on SIGTERM or SIGINT.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reportgen.executors.deadlines import CHECK_EVERY
from reportgen.executors.schedule_sync import sync_definitions
from reportgen.executors.scheduler import (
    DEADLINE_JOB_FUNCTION,
    DEADLINE_JOB_PREFIX,
    REPUBLISH_JOB_FUNCTION,
    REPUBLISH_JOB_PREFIX,
    RETENTION_JOB_FUNCTION,
    RETENTION_JOB_PREFIX,
    create_scheduler,
)
from reportgen.settings import load_settings

logger = logging.getLogger("reportgen.executors.scheduler")  # the daemon's one log channel


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


def add_republish_job(scheduler: BaseScheduler, settings_path: Path | None) -> None:
    """With ``executor: celery``: publish again, every half minute, the runs the broker could
    not take when they fired (``reportgen.executors.durable``)."""
    from reportgen.executors.durable import REPUBLISH_EVERY

    settings_arg = str(settings_path.resolve()) if settings_path else None
    job_id = REPUBLISH_JOB_PREFIX + hashlib.sha256(
        (settings_arg or "").encode()).hexdigest()[:12]
    scheduler.add_job(REPUBLISH_JOB_FUNCTION,
                      IntervalTrigger(seconds=REPUBLISH_EVERY.total_seconds()),
                      kwargs={"settings_path": settings_arg}, id=job_id, name=job_id,
                      replace_existing=True, coalesce=True, max_instances=1,
                      next_run_time=datetime.now(UTC),
                      misfire_grace_time=int(REPUBLISH_EVERY.total_seconds()))


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
        if settings.executor == "celery":
            add_republish_job(scheduler, settings_path)
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
