"""The run ledger: every run, its inputs, its artifacts and each delivery, in one database.

SQLite by default, any SQLAlchemy URL in production (PostgreSQL when several daemons share
it).  The ledger creates and migrates its own schema (``reportgen.ledger.schema``), so
opening it is all a deployment has to do.  Two guarantees live in the database rather than
only in code: a (report, period, channel, recipient) can be recorded as sent only once
(a partial unique index), and a (report, period) can be run by only one process at a time
(a lock row with a unique key, taken over at once from a holder that died:
``reportgen.ledger.locks``).  Owner alerts are claimed in it too (``reportgen.ledger.alerts``).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from reportgen import secrets
from reportgen.errors import ReportgenError
from reportgen.ledger.alerts import AlertRecord as AlertRecord
from reportgen.ledger.alerts import AlertStore
from reportgen.ledger.files import locate_artifact
from reportgen.ledger.liveness import host_name
from reportgen.ledger.locks import HEARTBEAT_EVERY, HEARTBEAT_STALE, LockStore
from reportgen.ledger.locks import LockLost as LockLost
from reportgen.ledger.locks import RunLock as RunLock
from reportgen.ledger.locks import RunLocked as RunLocked
from reportgen.ledger.outbox import Outbox
from reportgen.ledger.pauses import Pauses
from reportgen.ledger.records import (
    ArtifactRecord,
    DeliveryRecord,
    Purpose,
    RunRecord,
    RunStatus,
    Trigger,
    delivery_from_row,
)
from reportgen.ledger.schema import (
    SQLITE_BUSY_SECONDS,
    artifacts,
    deliveries,
    inserted_id,
    migrate,
    runs,
    use_wal,
)
from reportgen.report.model.report_model import Artifact


def utc_now() -> datetime:
    return datetime.now(UTC)


class AlreadySent(ReportgenError):
    """The database refused a second 'sent' record for one report, period and recipient."""

    def __init__(self, report_id: str, period: str, channel: str, recipient: str):
        super().__init__(f"{channel} delivery of '{report_id}' for {period} to {recipient} "
                         f"is already recorded as sent")


class RunNotFound(ReportgenError, LookupError):
    def __init__(self, run_id: int):
        self.run_id = run_id
        super().__init__(f"no run #{run_id} in the ledger; see 'reportgen history'")


class Ledger(LockStore, AlertStore):
    """The run ledger at a SQLAlchemy ``url``; ``now`` is the clock (UTC-aware datetimes)."""

    def __init__(self, url: str, *, now: Callable[[], datetime] = utc_now,
                 holder: str | None = None, host: str | None = None, pid: int | None = None,
                 heartbeat_every: timedelta = HEARTBEAT_EVERY,
                 heartbeat_stale: timedelta = HEARTBEAT_STALE, out_dir: Path | None = None):
        self.url = url
        # where runs wrote: locates artifact rows recorded with a relative path
        self.out_dir = out_dir
        self.now = now
        # Lock rows carry host and pid, so a lock whose process is gone is taken over.
        self.host = host or host_name()
        self.pid = os.getpid() if pid is None else pid
        # Names this process in lock rows so "already running in ..." says who holds it.
        self.holder = holder or f"{self.host}:{self.pid}"
        self.heartbeat_every, self.heartbeat_stale = heartbeat_every, heartbeat_stale
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Wait (briefly) for another process's write instead of failing at once.
            options["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS,
                                       "check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                options["poolclass"] = StaticPool  # one connection, or each sees an empty DB
                # No other process can see this ledger, and a heartbeat thread would share
                # its one connection with the run.
                self.heartbeat_every = timedelta(0)
        self.engine = sa.create_engine(url, **options)
        if url.startswith("sqlite"):
            use_wal(self.engine)
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def outbox(self) -> Outbox:
        """Runs recorded before they were put on the broker, read through this ledger's clock."""
        return Outbox(self.engine, self.now)

    @property
    def pauses(self) -> Pauses:
        """The schedules paused from the web page, read through this ledger's clock."""
        return Pauses(self.engine, self.now)

    def with_clock(self, now: Callable[[], datetime]) -> Ledger:
        """This ledger (same database connection pool) read through another clock."""
        clone = copy.copy(self)
        clone.now = now
        return clone

    # --- runs -----------------------------------------------------------------------------
    def start_run(self, report_id: str, period: str, *, trigger: Trigger,
                  definition_hash: str, code_version: str, parent_id: int | None = None,
                  segment: str | None = None) -> int:
        """Record a new running run and return its id; ``attempt`` counts runs of the period.

        A fan-out's segment runs name their ``parent_id`` (the fan-out's run) and ``segment``.
        """
        with self.engine.begin() as conn:
            previous = conn.execute(
                sa.select(sa.func.count()).select_from(runs)
                .where(runs.c.report_id == report_id, runs.c.period == period)
            ).scalar_one()
            result = conn.execute(runs.insert().values(
                report_id=report_id, period=period, trigger=trigger, status="running",
                started_at=self.now(), definition_hash=definition_hash,
                input_hashes={}, code_version=code_version, attempt=previous + 1,
                parent_id=parent_id, segment=segment,
            ))
            return inserted_id(result)

    def finish_run(self, run_id: int, status: RunStatus, *, error: str | None = None,
                   input_hashes: Mapping[str, str] | None = None,
                   next_retry_at: datetime | None = None) -> None:
        """Close a run; ``error`` is redacted before it is stored."""
        values: dict[str, Any] = {
            "status": status, "finished_at": self.now(), "next_retry_at": next_retry_at,
            "error": secrets.redact(error) if error else None,
        }
        if input_hashes is not None:
            values["input_hashes"] = dict(input_hashes)
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def record_summary(self, run_id: int, summary: Mapping[str, Any]) -> None:
        """Keep what a resend needs (headline, e-mail settings) with the run, redacted."""
        cleaned = json.loads(secrets.redact(json.dumps(summary)))
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(summary=cleaned))

    def record_stages(self, run_id: int, stages: Sequence[Mapping[str, Any]]) -> None:
        """Keep how long each stage of the run took (``{"stage", "seconds"}``, in order) in
        its summary, beside what the summary holds already."""
        with self.engine.begin() as conn:
            current = conn.execute(sa.select(runs.c.summary).where(runs.c.id == run_id)).scalar()
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                summary={**(current or {}), "stages": [dict(s) for s in stages]}))

    def record_artifacts(self, run_id: int, items: Sequence[Artifact]) -> None:
        with self.engine.begin() as conn:
            for item in items:
                conn.execute(artifacts.insert().values(
                    run_id=run_id, format=item.format, size=item.size,
                    # absolute, so any process finds the file whatever its working folder
                    path=os.path.abspath(item.path),
                    sha256=item.sha256))

    def mark_pruned(self, run_id: int, rule: str) -> None:
        """Record that ``run_id``'s files were deleted now under retention ``rule``."""
        with self.engine.begin() as conn:
            conn.execute(artifacts.update().where(artifacts.c.run_id == run_id,
                                                  artifacts.c.pruned_at.is_(None))
                         .values(pruned_at=self.now(), pruned_by=rule))

    def get_run(self, run_id: int) -> RunRecord:
        found = self._runs(runs.c.id == run_id)
        if not found:
            raise RunNotFound(run_id)
        return found[0]

    def history(self, report_id: str | None = None, *, limit: int | None = None,
                children: bool = False) -> list[RunRecord]:
        """Runs, newest first, with their artifacts and deliveries; a fan-out's segment runs
        only with ``children`` (``children_of`` lists them under their run)."""
        condition = runs.c.report_id == report_id if report_id else sa.true()
        if not children:
            condition = sa.and_(condition, runs.c.parent_id.is_(None))
        return self._runs(condition, limit=limit)

    def children_of(self, run_id: int) -> list[RunRecord]:
        """A fan-out run's segment runs, in the order they were started."""
        return list(reversed(self._runs(runs.c.parent_id == run_id)))

    def first_started(self, report_id: str, period: str) -> datetime | None:
        """When the first run of this report for this period started (the retry deadline base)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.min(runs.c.started_at))
                .where(runs.c.report_id == report_id, runs.c.period == period)
            ).scalar_one()

    def _runs(self, condition: Any, limit: int | None = None) -> list[RunRecord]:
        query = sa.select(runs).where(condition).order_by(runs.c.id.desc())
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [row["id"] for row in rows]
            by_run_artifacts: dict[int, list[ArtifactRecord]] = {i: [] for i in ids}
            by_run_deliveries: dict[int, list[DeliveryRecord]] = {i: [] for i in ids}
            if ids:
                for a in conn.execute(sa.select(artifacts).where(artifacts.c.run_id.in_(ids))
                                      .order_by(artifacts.c.id)).mappings():
                    by_run_artifacts[a["run_id"]].append(
                        ArtifactRecord(a["format"],
                                       locate_artifact(a["path"], self.out_dir, a["run_id"]),
                                       a["size"], a["sha256"],
                                       a["pruned_at"], a["pruned_by"]))
                for d in conn.execute(sa.select(deliveries).where(deliveries.c.run_id.in_(ids))
                                      .order_by(deliveries.c.id)).mappings():
                    by_run_deliveries[d["run_id"]].append(delivery_from_row(d))
        return [
            RunRecord(
                id=row["id"], report_id=row["report_id"], period=row["period"],
                trigger=row["trigger"], status=row["status"], started_at=row["started_at"],
                finished_at=row["finished_at"], definition_hash=row["definition_hash"],
                input_hashes=row["input_hashes"] or {}, code_version=row["code_version"],
                error=row["error"], attempt=row["attempt"], next_retry_at=row["next_retry_at"],
                summary=row["summary"], parent_id=row["parent_id"], segment=row["segment"],
                artifacts=tuple(by_run_artifacts[row["id"]]),
                deliveries=tuple(by_run_deliveries[row["id"]]),
            )
            for row in rows
        ]

    # --- deliveries -----------------------------------------------------------------------
    def delivery_state(self, report_id: str, period: str, channel: str,
                       recipient: str) -> DeliveryRecord | None:
        """The delivery of this report and period to ``recipient`` (resends aside), if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(deliveries).where(
                    deliveries.c.report_id == report_id, deliveries.c.period == period,
                    deliveries.c.channel == channel, deliveries.c.recipient == recipient,
                    deliveries.c.purpose != "resend",
                )
                # A sent row wins over any stray unsent one; then the newest.
                .order_by((deliveries.c.status == "sent").desc(), deliveries.c.id.desc())
                .limit(1)
            ).mappings().first()
        return delivery_from_row(row) if row else None

    def begin_delivery(self, run_id: int, report_id: str, period: str, channel: str,
                       recipient: str, *, purpose: Purpose = "delivery") -> DeliveryRecord:
        """The row to record this delivery on: an unsent earlier one is taken over by this run
        (so its attempts keep counting), a resend always gets a new row."""
        if purpose != "resend":
            existing = self.delivery_state(report_id, period, channel, recipient)
            if existing is not None:
                if existing.status != "sent":
                    with self.engine.begin() as conn:
                        conn.execute(deliveries.update().where(deliveries.c.id == existing.id)
                                     .values(run_id=run_id, updated_at=self.now()))
                return self._delivery_by_id(existing.id)
        with self.engine.begin() as conn:
            result = conn.execute(deliveries.insert().values(
                run_id=run_id, report_id=report_id, period=period, channel=channel,
                recipient=recipient, status="pending", attempts=0, purpose=purpose,
                updated_at=self.now()))
            new_id = inserted_id(result)
        return self._delivery_by_id(new_id)

    def begin_attempt(self, delivery_id: int, message_id: str) -> str:
        """Count a try before it is made and return the Message-ID it must carry.

        The first Message-ID recorded for a delivery is kept for good: every later try (a
        retry, or a deliberate resend of an unconfirmed one) carries the same one, so a
        receiving side that got an earlier try can recognise the copy.
        """
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(
                attempts=deliveries.c.attempts + 1,
                smtp_message_id=sa.func.coalesce(deliveries.c.smtp_message_id, message_id),
                updated_at=self.now()))
            stored = conn.execute(sa.select(deliveries.c.smtp_message_id)
                                  .where(deliveries.c.id == delivery_id)).scalar_one()
        return str(stored)

    def mark_sending(self, delivery_id: int) -> None:
        """Record that the message itself is about to go (just before SMTP DATA).

        From here until ``mark_sent`` or ``mark_failed`` the outcome is unknown to anyone
        but the server: a crash in between leaves the row 'sending', which the next holder
        of the lock turns into 'unconfirmed' rather than sending it again blindly.
        """
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(
                status="sending", updated_at=self.now()))

    def mark_sent(self, delivery_id: int, message_id: str | None = None) -> None:
        """Record that the server accepted the message; a second 'sent' is refused.

        ``message_id`` fills in only a row that has none (the first one is never replaced).
        """
        values: dict[str, Any] = {"status": "sent", "last_error": None, "updated_at": self.now()}
        if message_id:
            values["smtp_message_id"] = sa.func.coalesce(deliveries.c.smtp_message_id,
                                                         message_id)
        try:
            with self.engine.begin() as conn:
                conn.execute(deliveries.update().where(deliveries.c.id == delivery_id)
                             .values(**values))
        except IntegrityError:
            record = self._delivery_by_id(delivery_id)
            raise AlreadySent(record.report_id, record.period, record.channel,
                              record.recipient) from None

    def mark_unconfirmed(self, delivery_id: int, error: str | None = None) -> None:
        """Record that a try may or may not have arrived (cut off before an answer came);
        it is not repeated blindly.  ``error`` (redacted) replaces the last one when given."""
        values: dict[str, Any] = {"status": "unconfirmed", "updated_at": self.now()}
        if error:
            values["last_error"] = secrets.redact(error)
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == delivery_id)
                         .values(**values))

    def mark_failed(self, delivery_id: int, error: str, *, permanent: bool) -> None:
        status = "failed_permanent" if permanent else "failed_transient"
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(
                status=status, last_error=secrets.redact(error), updated_at=self.now()))

    def _delivery_by_id(self, delivery_id: int) -> DeliveryRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)
                               ).mappings().one()
        return delivery_from_row(row)
