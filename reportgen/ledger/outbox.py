"""Runs put on the broker for the workers, recorded in the ledger before they are published.

A scheduled run is written here as ``queued`` first, then published.  When the broker cannot
be reached the row stays ``queued`` with the time of its next attempt, and the schedule
daemon publishes it again then (``executors.durable``): a broker outage delays a run, it
never loses it.  A row becomes ``published`` with the broker's task id once a publish
succeeded, so it is published once.  If the run is late meanwhile, the delivery deadline
check alerts the owner as for any late report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from reportgen import secrets
from reportgen.ledger.schema import enqueued_runs, inserted_id

QUEUED, PUBLISHED = "queued", "published"


@dataclass(frozen=True)
class EnqueuedRun:
    id: int
    report_id: str
    definition_path: str
    settings_path: str | None
    period: str | None
    trigger: str | None
    state: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    published_at: datetime | None
    task_id: str | None
    last_error: str | None


class Outbox:
    """The enqueued_runs table of a ledger's database, read through the ledger's clock."""

    def __init__(self, engine: sa.Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now

    def add(self, report_id: str, definition_path: str, settings_path: str | None,
            period: str | None, trigger: str | None) -> EnqueuedRun:
        """Record a run about to be published, ``queued``."""
        with self.engine.begin() as conn:
            row_id = inserted_id(conn.execute(enqueued_runs.insert().values(
                report_id=report_id, definition_path=definition_path,
                settings_path=settings_path, period=period, trigger=trigger, state=QUEUED,
                created_at=self.now(), attempts=0)))
        return self.get(row_id)

    def published(self, row_id: int, task_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(enqueued_runs.update().where(enqueued_runs.c.id == row_id).values(
                state=PUBLISHED, published_at=self.now(), task_id=task_id,
                attempts=enqueued_runs.c.attempts + 1, next_attempt_at=None))

    def deferred(self, row_id: int, error: str, retry_at: datetime) -> None:
        """A publish failed: keep the row queued until ``retry_at`` (the error redacted)."""
        with self.engine.begin() as conn:
            conn.execute(enqueued_runs.update().where(enqueued_runs.c.id == row_id).values(
                attempts=enqueued_runs.c.attempts + 1, next_attempt_at=retry_at,
                last_error=secrets.redact(error)))

    def forget_published(self, before: datetime) -> int:
        """Delete rows published before ``before`` (their runs are in the runs table)."""
        with self.engine.begin() as conn:
            return int(conn.execute(enqueued_runs.delete().where(
                enqueued_runs.c.state == PUBLISHED,
                enqueued_runs.c.published_at < before)).rowcount)

    def due(self) -> list[EnqueuedRun]:
        """Queued rows whose next attempt is due, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(enqueued_runs).where(
                enqueued_runs.c.state == QUEUED,
                sa.or_(enqueued_runs.c.next_attempt_at.is_(None),
                       enqueued_runs.c.next_attempt_at <= self.now()))
                .order_by(enqueued_runs.c.id)).mappings().all()
        return [EnqueuedRun(**row) for row in rows]

    def get(self, row_id: int) -> EnqueuedRun:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(enqueued_runs).where(
                enqueued_runs.c.id == row_id)).mappings().one()
        return EnqueuedRun(**row)

    def all(self, report_id: str | None = None) -> list[EnqueuedRun]:
        query = sa.select(enqueued_runs).order_by(enqueued_runs.c.id)
        if report_id is not None:
            query = query.where(enqueued_runs.c.report_id == report_id)
        with self.engine.connect() as conn:
            return [EnqueuedRun(**row) for row in conn.execute(query).mappings().all()]
