"""Regenerations queued in-process: one worker thread, status the page polls."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Job:
    id: int
    report_id: str
    period: str
    user: str
    state: str = "queued"  # queued, running, finished, failed
    run_id: int | None = None
    run_status: str | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "report_id": self.report_id, "period": self.period,
                "state": self.state, "run_id": self.run_id, "run_status": self.run_status,
                "error": self.error}


class JobQueue:
    """Runs one regeneration at a time, so two cannot fight over the 2-core box or a lock."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-web-job")
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, report_id: str, period: str, user: str,
               work: Callable[[], tuple[int, str, str | None]]) -> Job:
        """Queue ``work`` (returning run id, status and error) and return its job."""
        with self._lock:
            job = Job(next(self._ids), report_id, period, user)
            self._jobs[job.id] = job

        def run() -> None:
            job.state = "running"
            try:
                job.run_id, job.run_status, job.error = work()
                job.state = "finished"
            except Exception as exc:  # shown on the page; the ledger has the run's own record
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.done.set()

        self._pool.submit(run)
        return job

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
