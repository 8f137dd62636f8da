"""Schedules paused from the web page: while a report's row is here, its scheduled runs (and
their retries) are skipped; a run asked for by hand still runs.  Pausing is kept in the
ledger, not in the definition, so the page can pause a report whose file it does not own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from reportgen.ledger.schema import schedule_pauses


@dataclass(frozen=True)
class Pause:
    report_id: str
    paused_by: str
    paused_at: datetime


class Pauses:
    """The schedule_pauses table of a ledger's database."""

    def __init__(self, engine: sa.Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now

    def pause(self, report_id: str, by: str) -> Pause:
        """Pause ``report_id``'s schedule (kept as it was when it is already paused)."""
        with self.engine.begin() as conn:
            if conn.execute(sa.select(schedule_pauses.c.report_id).where(
                    schedule_pauses.c.report_id == report_id)).first() is None:
                conn.execute(schedule_pauses.insert().values(
                    report_id=report_id, paused_by=by, paused_at=self.now()))
        found = self.get(report_id)
        assert found is not None
        return found

    def resume(self, report_id: str) -> bool:
        """Resume it; False when it was not paused."""
        with self.engine.begin() as conn:
            return bool(conn.execute(schedule_pauses.delete().where(
                schedule_pauses.c.report_id == report_id)).rowcount)

    def get(self, report_id: str) -> Pause | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(schedule_pauses).where(
                schedule_pauses.c.report_id == report_id)).mappings().first()
        return Pause(row["report_id"], row["paused_by"], row["paused_at"]) if row else None
