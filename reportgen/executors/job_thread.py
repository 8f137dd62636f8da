"""Work a long-lived process does for its users off its event loop, each piece a ledger job.

Regenerations are queued and run one at a time on a worker thread, so two of them do not
fight over a small machine or a run lock.  Previews, test sends, sends and approvals run on
the thread that serves them (never the event loop) and are recorded the same way
(``JobQueue.recorded``).  Either way the job is a row of the ledger's jobs table
(``reportgen.ledger.jobs``) from the moment it is asked for: its id never repeats, the page
shows its live stage and elapsed time, and its outcome survives a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from reportgen import secrets
from reportgen.errors import ReportgenError
from reportgen.ledger.jobs import JobRecord, JobStore
from reportgen.run import events
from reportgen.run.events import RunEvent, StageStarted

#: the work: told where to send the run's events, it returns (run id, status, error)
Work = Callable[[Callable[[RunEvent], None]], tuple[int, str, str | None]]


def _failure(exc: BaseException) -> str:
    """What a failed job says: reportgen's own error (or a refusal the page explains) in its
    words, anything else as an internal error whose detail is in the run and the log."""
    if isinstance(exc, ReportgenError):
        return secrets.redact(str(exc))
    detail = getattr(exc, "detail", None)  # an HTTP refusal
    if isinstance(detail, str):
        return secrets.redact(detail)
    return (f"the job stopped on an internal error ({type(exc).__name__}); the run's record "
            f"and the server log have the detail")


@dataclass
class JobTicket:
    """A job being done on the calling thread: set its stage, and its result once known."""

    id: int
    store: JobStore
    run_id: int | None = None
    run_status: str | None = None
    error: str | None = None

    def stage(self, name: str) -> None:
        self.store.update(self.id, stage=name)

    def result(self, *, run_id: int | None = None, run_status: str | None = None,
               error: str | None = None) -> None:
        self.run_id, self.run_status = run_id, run_status
        self.error = secrets.redact(error) if error else None


class JobQueue:
    """Runs queued jobs one at a time on a worker thread, and records the jobs done on the
    calling thread; every job is in the ledger."""

    def __init__(self, engine: sa.Engine, now: Callable[[], datetime]) -> None:
        self.store = JobStore(engine, now)
        self.store.interrupt_orphans()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-web-job")
        #: set when a job ends (tests and shutdown wait on it)
        self.finished: dict[int, threading.Event] = {}

    def submit(self, kind: str, report_id: str, period: str, user: str | None,
               work: Work) -> JobRecord:
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
            except Exception as exc:  # said on the page; the run's own record has the detail
                self.store.finish(job_id, "failed", error=_failure(exc))
            finally:
                done.set()

        self._pool.submit(run)
        record = self.store.get(job_id)
        assert record is not None
        return record

    @contextmanager
    def recorded(self, kind: str, report_id: str, period: str,
                 user: str | None) -> Iterator[JobTicket]:
        """A job done inside the block, on the calling thread (a worker thread of the page,
        never its event loop): recorded as running, its stages followed from the run events
        emitted inside, and finished with the ticket's result, or failed with the error
        (which is raised on)."""
        ticket = JobTicket(self.store.create(kind, report_id, period, user), self.store)
        self.store.start(ticket.id)

        def sink(event: RunEvent) -> None:
            if isinstance(event, StageStarted):
                ticket.stage(event.stage)

        try:
            with events.listening(sink):
                yield ticket
        except Exception as exc:
            self.store.finish(ticket.id, "failed", run_id=ticket.run_id, error=_failure(exc))
            raise
        self.store.finish(ticket.id, "finished" if ticket.error is None else "failed",
                          run_id=ticket.run_id, run_status=ticket.run_status,
                          error=ticket.error)

    def get(self, job_id: int) -> JobRecord | None:
        return self.store.get(job_id)

    def recent(self, report_id: str, limit: int = 10) -> list[JobRecord]:
        return self.store.recent(limit, report_id=report_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.store.interrupt_orphans()  # anything cancelled before it started
