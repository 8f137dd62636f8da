"""Work the page does for its users off the event loop: regenerations, one at a time.

Each job is a row of the ledger's jobs table (``reportgen.ledger.jobs``) from the moment it
is asked for: its id never repeats, the page shows its live stage and elapsed time, and its
outcome survives a restart.  The work runs on one worker thread, so two regenerations do
not fight over a small machine or a run lock, and the page keeps answering meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa

from reportgen import secrets
from reportgen.errors import ReportgenError
from reportgen.ledger.jobs import JobRecord, JobStore
from reportgen.run.events import RunEvent, StageStarted

#: the work: told where to send the run's events, it returns (run id, status, error)
Work = Callable[[Callable[[RunEvent], None]], tuple[int, str, str | None]]


class JobQueue:
    """Runs one job at a time on a worker thread, recording each in the ledger."""

    def __init__(self, engine: sa.Engine, now: Callable[[], datetime]) -> None:
        self.store = JobStore(engine, now)
        self.store.interrupt_orphans()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-web-job")
        #: set when a job ends (tests and shutdown wait on it)
        self.finished: dict[int, threading.Event] = {}

    def submit(self, kind: str, report_id: str, period: str, user: str, work: Work) -> JobRecord:
        """Record a job and queue ``work``; returns the job as recorded."""
        job_id = self.store.create(kind, report_id, period, user)
        done = self.finished[job_id] = threading.Event()

        def sink(event: RunEvent) -> None:
            if isinstance(event, StageStarted):
                self.store.update(job_id, stage=event.stage)

        def run() -> None:
            self.store.start(job_id)
            try:
                run_id, status, error = work(sink)
                self.store.finish(job_id, "finished", run_id=run_id, run_status=status,
                                  error=error)
            except ReportgenError as exc:  # said in plain words on the page
                self.store.finish(job_id, "failed", error=secrets.redact(str(exc)))
            except Exception as exc:  # the run's own record has the detail
                self.store.finish(job_id, "failed", error=secrets.redact(
                    f"the job stopped on an internal error ({type(exc).__name__}); the run's "
                    f"record and the server log have the detail"))
            finally:
                done.set()

        self._pool.submit(run)
        record = self.store.get(job_id)
        assert record is not None
        return record

    def get(self, job_id: int) -> JobRecord | None:
        return self.store.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.store.interrupt_orphans()  # anything cancelled before it started
