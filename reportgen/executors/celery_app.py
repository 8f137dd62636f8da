"""Report runs as Celery tasks, with Redis (or any Celery broker) in between.

With ``executor: celery`` the scheduler enqueues each due run as a ``reportgen.run`` task
and ``reportgen worker`` processes execute them.  Celery delivers a task *at least* once:
tasks are acknowledged only after they finish (``acks_late``) and put back when their
worker dies (``reject_on_worker_lost``), so a task may run twice.  The run ledger is what
makes that harmless: a second run takes over the dead holder's lock, finds the recipients
already sent (or whose send was cut off, 'unconfirmed') in the ledger's delivery state,
and does not send to them again.

Caps: a worker runs at most ``max_concurrent_runs`` tasks at once (its concurrency); one
report and period runs at most once at a time (the ledger's run lock); a task finding its
report locked is retried later rather than waiting on a worker slot.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import Celery

from reportgen.executors.broker import LOCKED_RETRY_SECONDS, QUEUE, TASK, make_app
from reportgen.executors.jobs import run_job

if TYPE_CHECKING:
    from reportgen.settings import Settings

logger = logging.getLogger(__name__)


def worker_app(broker_url: str, *, visibility_seconds: float | None = None) -> Celery:
    """The broker's app with the run task registered, as a worker process needs it."""
    app = make_app(broker_url, visibility_seconds=visibility_seconds)
    app.task(name=TASK, bind=True, max_retries=None)(_run_task)
    return app


def _run_task(task: Any, definition_path: str, settings_path: str | None,
              period_key: str | None = None, trigger: str | None = None,
              options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one report (or fan-out) as the scheduler would, or as ``options`` say (``send``,
    ``segment``, ``requested_by``: a run asked for by hand); retried when it is locked."""
    from reportgen.errors import ReportgenError
    from reportgen.ledger.store import RunLocked
    from reportgen.settings import load_settings

    try:
        settings = load_settings(Path(settings_path) if settings_path else None)
    except ReportgenError as exc:
        logger.error("run of %s skipped: %s", definition_path, exc)
        return {"status": "skipped"}
    try:
        outcome = run_job(definition_path, settings_path, settings, period_key,
                          trigger=trigger, raise_locked=True, options=options)
    except RunLocked as exc:
        logger.info("%s; trying again in %ds", exc, LOCKED_RETRY_SECONDS)
        raise task.retry(countdown=LOCKED_RETRY_SECONDS) from None
    if outcome is None:
        return {"status": "skipped"}
    return {"run": outcome.run_id, "status": outcome.status}


def run_worker(settings: Settings, *, concurrency: int | None = None, queues: str = QUEUE,
               hostname: str | None = None) -> int:
    """Run a Celery worker in this process until it is stopped; the exit code."""
    from reportgen.errors import InputError

    if not settings.broker_url:
        raise InputError("'reportgen worker' needs a broker: set broker_url in the settings "
                         "or REPORTGEN_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    app = worker_app(settings.broker_url)
    name = hostname or f"reportgen-{os.getpid()}@{socket.gethostname()}"
    argv = ["worker", "--loglevel", "INFO", "--pool", "prefork",
            "--concurrency", str(concurrency or settings.max_concurrent_runs),
            "--queues", queues, "--hostname", name, "--without-gossip", "--without-mingle"]
    app.worker_main(argv)
    return 0
