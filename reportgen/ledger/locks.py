"""Run locks: one (report, period) runs in one process at a time, and a dead holder's lock
is taken over at once.

A lock is a row with a unique key (report, period).  It names its holder's host and process
id and carries a heartbeat the holder renews from a small thread while it works.  A lock
is abandoned when its holder is gone (same host, process no longer exists), when its
heartbeat is older than ``heartbeat_stale`` (another host, or a hung machine), or when it is
older than its ttl (settings ``lock_minutes``, the longest a run may take).  The new holder
closes runs the old one left 'running' and turns its sends left 'sending' into
'unconfirmed' (``reportgen.delivery.email`` explains what happens to those).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reportgen.errors import ReportgenError
from reportgen.ledger.liveness import process_alive
from reportgen.ledger.schema import deliveries, run_locks, runs

#: how often a running run renews its lock's heartbeat, and when silence means it is gone
HEARTBEAT_EVERY = timedelta(seconds=20)
HEARTBEAT_STALE = timedelta(minutes=3)

class RunLocked(ReportgenError):
    """Another process is running the same report for the same period."""

    def __init__(self, report_id: str, period: str, holder: str, expires_at: datetime | None):
        self.report_id, self.period, self.holder = report_id, period, holder
        until = f" (the lock expires at {expires_at:%Y-%m-%d %H:%M} UTC)" if expires_at else ""
        super().__init__(f"report '{report_id}' for {period} is already running in {holder}"
                         f"{until}; wait for it to finish")


class LockLost(ReportgenError):
    """This run's lock was taken over (it went silent for too long); it must stop sending."""

    def __init__(self, report_id: str, period: str):
        super().__init__(f"the lock on '{report_id}' for {period} was taken over by another "
                         f"process; this run stopped before sending anything more")


@dataclass(eq=False)
class RunLock:
    """A held (report, period) lock; as a context manager it keeps its heartbeat going
    while the block runs and releases the lock on exit."""

    ledger: LockStore
    report_id: str
    period: str
    token: str
    expires_at: datetime
    lost: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RunLock:
        self.start_heartbeat()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_heartbeat()
        self.ledger.release_lock(self)

    def start_heartbeat(self, every: timedelta | None = None) -> None:
        """Renew the heartbeat from a daemon thread until ``stop_heartbeat``; a renewal that
        finds the lock gone sets ``lost``."""
        seconds = (every or self.ledger.heartbeat_every).total_seconds()
        if self._thread is not None or seconds <= 0:
            return

        def beat() -> None:
            while not self._stop.wait(seconds):
                try:
                    if not self.ledger.heartbeat(self):
                        self.lost.set()
                        return
                except Exception:  # a database hiccup: the next beat tries again
                    continue

        self._thread = threading.Thread(target=beat, name=f"lock {self.report_id}",
                                        daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def check(self) -> None:
        """Raise LockLost once the heartbeat found this lock taken over."""
        if self.lost.is_set():
            raise LockLost(self.report_id, self.period)


class LockStore:
    """The lock half of the ``Ledger`` (mixed into it)."""

    engine: sa.Engine
    now: Callable[[], datetime]
    host: str
    pid: int
    holder: str
    heartbeat_every: timedelta
    heartbeat_stale: timedelta

    # --- locks ----------------------------------------------------------------------------
    def acquire_lock(self, report_id: str, period: str, *,
                     ttl: timedelta = timedelta(hours=2)) -> RunLock:
        """Take the (report, period) lock or raise RunLocked.

        A lock held by a live process is refused.  One whose holder is gone is taken over
        at once: the same host and its process no longer exists, its heartbeat is older than
        ``heartbeat_stale``, or it is older than ``ttl`` (the longest a run may take, even if
        its process still beats).  Runs the old holder left 'running' are closed as failed,
        and its sends left 'sending' become 'unconfirmed'.
        """
        now = self.now()
        token = uuid.uuid4().hex
        key = (run_locks.c.report_id == report_id, run_locks.c.period == period)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(run_locks).where(*key)).mappings().first()
            reason = self._abandoned(row, now) if row is not None else None
            if row is not None and reason is not None:
                taken = conn.execute(run_locks.delete().where(
                    *key, run_locks.c.token == row["token"])).rowcount
                if taken:
                    conn.execute(runs.update().where(
                        runs.c.report_id == report_id, runs.c.period == period,
                        runs.c.status == "running",
                    ).values(status="failed", finished_at=now,
                             error=f"interrupted: the process running it stopped without "
                                   f"finishing ({reason})"))
        try:
            with self.engine.begin() as conn:
                conn.execute(run_locks.insert().values(
                    report_id=report_id, period=period, token=token, holder=self.holder,
                    acquired_at=now, expires_at=now + ttl, host=self.host, pid=self.pid,
                    heartbeat_at=now))
        except IntegrityError:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(run_locks).where(*key)).mappings().first()
            raise RunLocked(report_id, period, row["holder"] if row else "another process",
                            row["expires_at"] if row else None) from None
        self.mark_orphaned_sends(report_id, period)
        return RunLock(self, report_id, period, token, now + ttl)

    def _abandoned(self, row: sa.RowMapping, now: datetime) -> str | None:
        """Why the lock in ``row`` no longer protects a live run, or None if it does."""
        if row["expires_at"] < now:
            return f"its lock expired at {row['expires_at']:%Y-%m-%d %H:%M} UTC"
        if (row["host"] == self.host and row["pid"] is not None
                and not process_alive(int(row["pid"]))):
            return f"process {row['pid']} on {row['host']} is gone"
        beat = row["heartbeat_at"]
        if beat is not None and now - beat > self.heartbeat_stale:
            return f"no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC"
        return None

    def heartbeat(self, lock: RunLock) -> bool:
        """Renew ``lock``'s heartbeat; False when the lock is no longer this holder's."""
        with self.engine.begin() as conn:
            return bool(conn.execute(run_locks.update().where(
                run_locks.c.report_id == lock.report_id, run_locks.c.period == lock.period,
                run_locks.c.token == lock.token,
            ).values(heartbeat_at=self.now())).rowcount)

    def release_lock(self, lock: RunLock) -> None:
        with self.engine.begin() as conn:
            conn.execute(run_locks.delete().where(
                run_locks.c.report_id == lock.report_id, run_locks.c.period == lock.period,
                run_locks.c.token == lock.token))

    @contextmanager
    def locked(self, report_id: str, period: str, *,
               ttl: timedelta = timedelta(hours=2)) -> Iterator[RunLock]:
        """Hold the lock, with its heartbeat running, for the ``with`` block."""
        with self.acquire_lock(report_id, period, ttl=ttl) as lock:
            yield lock

    def mark_orphaned_sends(self, report_id: str, period: str) -> int:
        """Turn tries left 'sending' by a run that is gone into 'unconfirmed'; how many.

        Called by the lock's new holder, so no live run can own those rows.
        """
        with self.engine.begin() as conn:
            return int(conn.execute(deliveries.update().where(
                deliveries.c.report_id == report_id, deliveries.c.period == period,
                deliveries.c.status == "sending",
            ).values(status="unconfirmed", updated_at=self.now(),
                     last_error="the process sending it stopped before the server's answer "
                                "was recorded")).rowcount)
