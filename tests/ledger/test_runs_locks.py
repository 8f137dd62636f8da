"""Live run locks and schema version 3, on a SQLite file and on a real PostgreSQL server.

A lock row names its holder's host and pid and carries a heartbeat: a lock whose process
is gone (same host) or whose heartbeat stopped is taken over at once; a live holder is
refused.  Version 3 ledgers migrate from version 2 keeping their rows.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from test_runs import Clock
from test_runs_postgres import schema_of

from reportgen.ledger.liveness import host_name
from reportgen.ledger.schema import SCHEMA_VERSION, current_version, migrate, run_locks
from reportgen.ledger.store import Ledger, LockLost, RunLocked

if TYPE_CHECKING:
    from support.ledger_backends import OpenLedger


def dead_pid() -> int:
    """The pid of a process that has finished (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def orphan_send(ledger: Ledger) -> tuple[int, int]:
    """A run and a delivery left mid-DATA by ``ledger``'s (dead) process."""
    run_id = ledger.start_run("mqr", "2026-10", trigger="schedule", definition_hash="h",
                              code_version="t")
    row = ledger.begin_delivery(run_id, "mqr", "2026-10", "email", "a@example.com")
    ledger.begin_attempt(row.id, "<first@example.com>")
    ledger.mark_sending(row.id)
    return run_id, row.id


def test_a_lock_whose_process_is_gone_is_taken_over_at_once(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    clock = Clock()
    pid = dead_pid()
    crashed = open_ledger(ledger_url, now=clock, pid=pid)
    crashed.acquire_lock("mqr", "2026-10", ttl=timedelta(hours=2))
    run_id, delivery_id = orphan_send(crashed)
    rerun = open_ledger(ledger_url, now=clock)

    with rerun.locked("mqr", "2026-10"):  # same moment: no expiry, no silence needed
        orphan = rerun.get_run(run_id)
        assert orphan.status == "failed"
        assert f"process {pid} on {host_name()} is gone" in (orphan.error or "")
        (delivery,) = orphan.deliveries
        assert (delivery.id, delivery.status) == (delivery_id, "unconfirmed")
        assert delivery.smtp_message_id == "<first@example.com>" and delivery.attempts == 1


def test_a_silent_heartbeat_is_taken_over_and_a_beating_one_is_not(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    clock = Clock()
    # On another host its pid means nothing here: only the heartbeat tells.
    remote = open_ledger(ledger_url, now=clock, host="other-host", pid=1)
    local = open_ledger(ledger_url, now=clock)
    lock = remote.acquire_lock("mqr", "2026-10", ttl=timedelta(hours=2))

    clock.advance(minutes=2)
    with pytest.raises(RunLocked, match="already running in other-host:1"):
        local.acquire_lock("mqr", "2026-10")
    assert remote.heartbeat(lock)
    clock.advance(minutes=2, seconds=59)  # 2:59 since the last beat
    with pytest.raises(RunLocked):
        local.acquire_lock("mqr", "2026-10")
    clock.advance(seconds=2)  # 3:01 of silence
    with local.locked("mqr", "2026-10"):
        assert not remote.heartbeat(lock)  # the old holder learns it lost the lock


def test_a_live_holder_on_this_host_is_refused(ledger_url: str,
                                               open_ledger: OpenLedger) -> None:
    clock = Clock()
    first = open_ledger(ledger_url, now=clock, holder="daemon-1")  # this process: alive
    second = open_ledger(ledger_url, now=clock, holder="daemon-2")
    with first.locked("mqr", "2026-10"):
        with pytest.raises(RunLocked, match="already running in daemon-1"):
            second.acquire_lock("mqr", "2026-10")
        clock.advance(minutes=119)  # within lock_minutes, heartbeat renewed meanwhile
        with first.engine.begin() as conn:
            conn.execute(run_locks.update().values(heartbeat_at=clock()))
        with pytest.raises(RunLocked):
            second.acquire_lock("mqr", "2026-10")
        clock.advance(minutes=2)  # past lock_minutes: even a live process gives way
        with second.locked("mqr", "2026-10"):
            pass


def test_the_heartbeat_thread_renews_and_notices_a_lost_lock(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    clock = Clock()
    holder = open_ledger(ledger_url, now=clock, heartbeat_every=timedelta(seconds=0.05))
    other = open_ledger(ledger_url, now=clock)
    with holder.locked("mqr", "2026-10") as lock:
        clock.advance(minutes=10)  # long past the silence limit, but the thread beats
        deadline = time.monotonic() + 10
        beat = None
        while time.monotonic() < deadline and beat != clock():
            time.sleep(0.02)
            with holder.engine.connect() as conn:
                beat = conn.execute(sa.select(run_locks.c.heartbeat_at)).scalar_one()
        assert beat == clock()
        with pytest.raises(RunLocked):
            other.acquire_lock("mqr", "2026-10")
        lock.check()  # still ours
        with holder.engine.begin() as conn:  # someone else takes it over
            conn.execute(run_locks.delete())
        assert lock.lost.wait(10)
        with pytest.raises(LockLost, match="taken over"):
            lock.check()


# --- schema version 3 -------------------------------------------------------------------------
V2_LOCK = ("INSERT INTO run_locks (report_id, period, token, holder, acquired_at, expires_at) "
           "VALUES ('mqr', '2026-10', 'tok', 'old-host:7', '2026-11-02 06:30:00', "
           "'2026-11-02 08:30:00')")
V2_RUN = ("INSERT INTO runs (report_id, period, \"trigger\", status, started_at, "
          "definition_hash, code_version, attempt) VALUES ('mqr', '2026-10', 'schedule', "
          "'running', '2026-11-02 06:30:00', 'h', '0.1', 1)")
V2_DELIVERY = ("INSERT INTO deliveries (run_id, report_id, period, channel, recipient, status, "
               "attempts, smtp_message_id, updated_at, purpose) VALUES (1, 'mqr', '2026-10', "
               "'email', :rcpt, :status, :attempts, :mid, '2026-11-02 06:31:00', 'delivery')")


def test_a_version_2_ledger_is_migrated_to_3_keeping_its_rows(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    engine = sa.create_engine(ledger_url)
    migrate(engine, target=2)
    with engine.begin() as conn:
        conn.execute(sa.text(V2_RUN))
        conn.execute(sa.text(V2_LOCK))
        for rcpt, status, attempts, mid in [("sent@example.com", "sent", 1, "<s@x>"),
                                            ("cut@example.com", "pending", 1, "<c@x>"),
                                            ("next@example.com", "pending", 0, None)]:
            conn.execute(sa.text(V2_DELIVERY),
                         {"rcpt": rcpt, "status": status, "attempts": attempts, "mid": mid})
    engine.dispose()

    clock = Clock()  # 07:00, within the old lock's expiry
    ledger = open_ledger(ledger_url, now=clock)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
    (run,) = ledger.history()
    # A version 2 try that counted an attempt but never got an outcome: unknown, not pending.
    assert {d.recipient: d.status for d in run.deliveries} == {
        "sent@example.com": "sent", "cut@example.com": "unconfirmed",
        "next@example.com": "pending"}
    assert run.deliveries[1].smtp_message_id == "<c@x>"
    # A version 2 lock has no host, pid or heartbeat: only its expiry frees it.
    with pytest.raises(RunLocked, match="old-host:7"):
        ledger.acquire_lock("mqr", "2026-10")
    clock.advance(hours=2)
    with ledger.locked("mqr", "2026-10") as lock:
        assert lock.expires_at == clock() + timedelta(hours=2)
    assert ledger.get_run(run.id).status == "failed"
    assert ledger.claim_alert("mqr", "2026-10", "late", "email", "o@example.com") is not None


def test_a_migrated_ledger_has_the_schema_of_a_new_one_on_both_backends(
        ledger_url: str, open_ledger: OpenLedger, tmp_path) -> None:
    if ledger_url.startswith("sqlite"):
        fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        fresh_url = ledger_url.rsplit("/", 1)[0] + "/postgres"
        engine = sa.create_engine(fresh_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE fresh_v3"))
        engine.dispose()
        fresh_url = ledger_url.rsplit("/", 1)[0] + "/fresh_v3"
    engine = sa.create_engine(ledger_url)
    migrate(engine, target=2)
    engine.dispose()
    open_ledger(ledger_url)
    open_ledger(fresh_url)

    migrated, fresh = schema_of(ledger_url), schema_of(fresh_url)
    assert migrated["run_locks"] == fresh["run_locks"]
    assert migrated["alerts"] == fresh["alerts"]
    if not ledger_url.startswith("sqlite"):
        # (SQLite's version 1 tables keep their own spelling of the integer key.)
        assert migrated == fresh


def test_an_alert_is_claimed_once_even_by_racing_daemons(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    clock = Clock()
    daemons = [open_ledger(ledger_url, now=clock, holder=f"d{n}") for n in range(4)]
    claims: list[int | None] = []
    start = threading.Barrier(len(daemons))

    def claim(ledger: Ledger) -> None:
        start.wait()
        claims.append(ledger.claim_alert("mqr", "2026-10", "late", "email", "o@example.com"))

    threads = [threading.Thread(target=claim, args=(d,)) for d in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    won = [c for c in claims if c is not None]
    assert len(claims) == 4 and len(won) == 1
    # A failed send may be claimed again; a sent one never.
    daemons[0].finish_alert(won[0], error="421 try later")
    again = daemons[1].claim_alert("mqr", "2026-10", "late", "email", "o@example.com")
    assert again == won[0]
    daemons[1].finish_alert(again, message_id="<a@x>")
    assert daemons[2].claim_alert("mqr", "2026-10", "late", "email", "o@example.com") is None
    cut = daemons[2].claim_alert("mqr", "2026-11", "late", "email", "o@example.com")
    assert cut is not None
    (first, second) = daemons[3].alerts("mqr")
    assert (first.status, first.message_id, second.status) == ("sent", "<a@x>", "sending")
    # One left 'sending' (its sender died) is given up on after ten minutes, not before.
    clock.advance(minutes=9)
    assert daemons[3].claim_alert("mqr", "2026-11", "late", "email", "o@example.com") is None
    clock.advance(minutes=2)
    assert daemons[3].claim_alert("mqr", "2026-11", "late", "email", "o@example.com") == cut


