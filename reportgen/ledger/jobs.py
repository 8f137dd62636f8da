"""Jobs a long-lived process runs for its users (the web page's regenerations, previews,
test sends, sends and approvals).

Each job is a ledger row from the moment it is asked for, so its id is unique for the life
of the ledger (not of the process), its stage can be followed while it runs, and its
outcome is still there after a restart.  A job left queued or running by a process that
is gone is marked 'interrupted' when the next one starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from reportgen.ledger.liveness import host_name, process_alive
from reportgen.ledger.schema import inserted_id, jobs

JOB_STATES = ("queued", "running", "finished", "failed", "interrupted")


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    report_id: str
    period: str
    user_name: str | None
    state: str
    stage: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_id: int | None
    run_status: str | None
    error: str | None

    def elapsed(self, now: datetime) -> float | None:
        """Seconds since it started (to its end, once finished)."""
        if self.started_at is None:
            return None
        return ((self.finished_at or now) - self.started_at).total_seconds()

    def to_json(self, now: datetime) -> dict[str, object]:
        elapsed = self.elapsed(now)
        return {"id": self.id, "kind": self.kind, "report_id": self.report_id,
                "period": self.period, "state": self.state, "stage": self.stage,
                "elapsed": round(elapsed, 1) if elapsed is not None else None,
                "run_id": self.run_id, "run_status": self.run_status, "error": self.error}


class JobStore:
    """The jobs table of a ledger's database."""

    def __init__(self, engine: sa.Engine, now: Callable[[], datetime]):
        self.engine = engine
        self.now = now

    def create(self, kind: str, report_id: str, period: str, user_name: str | None) -> int:
        with self.engine.begin() as conn:
            return inserted_id(conn.execute(jobs.insert().values(
                kind=kind, report_id=report_id, period=period, user_name=user_name,
                state="queued", created_at=self.now(), host=host_name(),
                pid=os.getpid())))

    def update(self, job_id: int, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))

    def start(self, job_id: int) -> None:
        self.update(job_id, state="running", started_at=self.now())

    def finish(self, job_id: int, state: str, *, run_id: int | None = None,
               run_status: str | None = None, error: str | None = None) -> None:
        self.update(job_id, state=state, finished_at=self.now(), run_id=run_id,
                    run_status=run_status, error=error)

    def get(self, job_id: int) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return _record(row) if row is not None else None

    def recent(self, limit: int = 50, *, report_id: str | None = None) -> list[JobRecord]:
        query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if report_id is not None:
            query = query.where(jobs.c.report_id == report_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query)
            return [_record(r) for r in rows.mappings()]

    def interrupt_orphans(self) -> int:
        """Mark jobs whose process on this host is gone (or that this process, starting
        afresh, cannot still be running) as interrupted; returns how many."""
        here, me = host_name(), os.getpid()
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(jobs.c.id, jobs.c.host, jobs.c.pid).where(
                jobs.c.state.in_(("queued", "running")))).all()
            orphans = [r.id for r in rows
                       if r.host == here and (r.pid == me or not process_alive(r.pid or 0))]
            if orphans:
                conn.execute(jobs.update().where(jobs.c.id.in_(orphans)).values(
                    state="interrupted", finished_at=self.now(),
                    error="the page restarted while this job was waiting or running; "
                          "start it again"))
        return len(orphans)


def _record(row: sa.RowMapping) -> JobRecord:
    return JobRecord(id=row["id"], kind=row["kind"], report_id=row["report_id"],
                     period=row["period"], user_name=row["user_name"], state=row["state"],
                     stage=row["stage"], created_at=row["created_at"],
                     started_at=row["started_at"], finished_at=row["finished_at"],
                     run_id=row["run_id"], run_status=row["run_status"], error=row["error"])
