"""The run ledger on a real PostgreSQL server (and the same checks on a SQLite file).

Production shares one PostgreSQL ledger between daemons, so what the ledger promises there
is checked there: the tool creates and migrates its own schema, the run lock and the
sent-once rule hold in the database across engines and at the same moment, history comes
back in order, and timestamps come back timezone-aware whatever the session's time zone.
Tests that mean the same on both backends run on both (``[sqlite]``, ``[postgresql]``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from test_runs import QUIET, T0, Clock

from reportgen.ledger.schema import SCHEMA_VERSION, current_version, migrate
from reportgen.ledger.store import AlreadySent, RunLock, RunLocked
from reportgen.report.model.report_model import Artifact

if TYPE_CHECKING:
    from support.ledger_backends import OpenLedger
    from support.postgres import PostgresServer

# Rows as version 1 of the tool wrote them (input hashes were JSON in a text column).
V1_RUN = (
    "INSERT INTO runs (report_id, period, \"trigger\", status, started_at, definition_hash, "
    "input_hashes, code_version, attempt) VALUES ('mqr', '2026-09', 'schedule', 'succeeded', "
    "'2026-10-02 07:00:00', 'h', '{\"t\": \"x\"}', '0.0.9', 1)")
V1_SENT_DELIVERY = (
    "INSERT INTO deliveries (run_id, report_id, period, channel, recipient, status, attempts, "
    "updated_at) VALUES (1, 'mqr', '2026-09', 'email', 'a@example.com', 'sent', 1, "
    "'2026-10-02 07:01:00')")


def race(attempts: list[Callable[[], RunLock]]) -> tuple[list[RunLock], list[RunLocked]]:
    """Run the attempts in threads released at the same moment; the locks won and refusals.

    Winners keep their locks until every attempt has finished, so a late attempt cannot
    slip in after an early winner let go.
    """
    start = threading.Barrier(len(attempts))
    won: list[RunLock] = []
    refused: list[RunLocked] = []
    unexpected: list[BaseException] = []

    def attempt(take: Callable[[], RunLock]) -> None:
        start.wait()
        try:
            won.append(take())
        except RunLocked as locked:
            refused.append(locked)
        except BaseException as error:
            unexpected.append(error)

    threads = [threading.Thread(target=attempt, args=(take,)) for take in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not unexpected, unexpected
    return won, refused


def schema_of(url: str) -> dict[str, Any]:
    """Every table's columns (type, nullability, default) and indexes, as the database has them."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            table: {
                "columns": {c["name"]: (str(c["type"]), c["nullable"], c.get("default"))
                            for c in inspector.get_columns(table)},
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                                   str(i.get("dialect_options", {})))
                                  for i in inspector.get_indexes(table)),
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"])
                                       for f in inspector.get_foreign_keys(table)),
            }
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


# --- schema ---------------------------------------------------------------------------------
def test_a_new_ledger_creates_its_schema_once(ledger_url: str, open_ledger: OpenLedger) -> None:
    ledger = open_ledger(ledger_url)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
        assert {"runs", "artifacts", "deliveries", "run_locks", "schema_version"} <= set(
            sa.inspect(conn).get_table_names())
    open_ledger(ledger_url)  # opening an up-to-date ledger again changes nothing
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM schema_version")).scalar_one() == 1


def test_an_older_ledger_is_migrated_keeping_its_runs(ledger_url: str,
                                                      open_ledger: OpenLedger) -> None:
    engine = sa.create_engine(ledger_url)
    migrate(engine, target=1)  # the schema as version 1 of the tool created it
    with engine.begin() as conn:
        conn.execute(sa.text(V1_RUN))
        conn.execute(sa.text(V1_SENT_DELIVERY))
        assert current_version(conn) == 1
    engine.dispose()

    ledger = open_ledger(ledger_url)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
    (old,) = ledger.history()
    assert (old.period, old.status, old.input_hashes) == ("2026-09", "succeeded", {"t": "x"})
    assert old.started_at == datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
    assert old.deliveries[0].purpose == "delivery"
    again = ledger.begin_delivery(old.id, "mqr", "2026-09", "email", "a@example.com")
    assert again.status == "sent" and again.id == old.deliveries[0].id
    # The migrated tables take new rows: ids keep counting after the old ones.
    new_run = ledger.start_run("mqr", "2026-10", trigger="manual", definition_hash="h",
                               code_version="t")
    ledger.record_artifacts(new_run, [Artifact("pdf", "/tmp/mqr.pdf", 10, "f" * 64)])
    delivery = ledger.begin_delivery(new_run, "mqr", "2026-10", "email", "a@example.com")
    assert new_run > old.id and delivery.id > old.deliveries[0].id
    assert ledger.get_run(new_run).artifacts[0].path == "/tmp/mqr.pdf"


def test_a_migrated_postgres_ledger_has_the_schema_of_a_new_one(
        postgres_server: PostgresServer, open_ledger: OpenLedger) -> None:
    fresh_url = postgres_server.create_database("fresh")
    migrated_url = postgres_server.create_database("migrated")
    engine = sa.create_engine(migrated_url)
    migrate(engine, target=1)
    engine.dispose()

    open_ledger(fresh_url)
    open_ledger(migrated_url)

    assert schema_of(migrated_url) == schema_of(fresh_url)


def test_sent_once_is_a_partial_unique_index_in_postgres(postgres_url: str,
                                                         open_ledger: OpenLedger) -> None:
    ledger = open_ledger(postgres_url)
    with ledger.engine.connect() as conn:
        definition = conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_deliveries_sent_once'")
        ).scalar_one()
    assert definition.startswith("CREATE UNIQUE INDEX")
    assert "(report_id, period, channel, recipient)" in definition
    assert "WHERE" in definition and "'sent'" in definition and "'resend'" in definition


# --- exactly once -----------------------------------------------------------------------------
def test_a_second_sent_is_refused_by_the_database(ledger_url: str,
                                                  open_ledger: OpenLedger) -> None:
    daemon_a = open_ledger(ledger_url, holder="host-a:1")
    daemon_b = open_ledger(ledger_url, holder="host-b:2")
    run_id = daemon_a.start_run("mqr", "2026-10", trigger="manual", definition_hash="h",
                                code_version="t")
    first = daemon_a.begin_delivery(run_id, "mqr", "2026-10", "email", "a@example.com")
    # A second row for the same key, as a daemon that had not seen the first would make it.
    with daemon_b.engine.begin() as conn:
        second_id = conn.execute(sa.text(
            "INSERT INTO deliveries (run_id, report_id, period, channel, recipient, status, "
            "attempts, updated_at, purpose) VALUES (:r, 'mqr', '2026-10', 'email', "
            "'a@example.com', 'pending', 0, '2026-11-01 00:00:00', 'delivery') RETURNING id"),
            {"r": run_id}).scalar_one()

    daemon_a.mark_sent(first.id, "<1@example.com>")
    with pytest.raises(AlreadySent, match="already recorded as sent"):
        daemon_b.mark_sent(second_id, "<2@example.com>")
    with pytest.raises(sa.exc.IntegrityError), daemon_b.engine.begin() as conn:
        conn.execute(sa.text("UPDATE deliveries SET status = 'sent' WHERE id = :i"),
                     {"i": second_id})
    # The same recipient on another channel or period, and a deliberate resend, are allowed.
    other_channel = daemon_b.begin_delivery(run_id, "mqr", "2026-10", "teams", "a@example.com")
    daemon_b.mark_sent(other_channel.id)
    resend = daemon_b.begin_delivery(run_id, "mqr", "2026-10", "email", "a@example.com",
                                     purpose="resend")
    daemon_b.mark_sent(resend.id, "<3@example.com>")

    sent = [(d.channel, d.purpose) for d in daemon_a.get_run(run_id).deliveries
            if d.status == "sent"]
    assert sorted(sent) == [("email", "delivery"), ("email", "resend"), ("teams", "delivery")]


# --- run locks -------------------------------------------------------------------------------
def test_a_lock_admits_one_of_two_engines_and_expires_for_a_crashed_holder(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    clock = Clock()
    # Heartbeats count only after an hour here: this test is about the expiry alone.
    daemon_a = open_ledger(ledger_url, now=clock, holder="host-a:1", heartbeat_stale=QUIET)
    daemon_b = open_ledger(ledger_url, now=clock, holder="host-b:2", heartbeat_stale=QUIET)

    with daemon_a.acquire_lock("mqr", "2026-10", ttl=timedelta(minutes=30)):
        with pytest.raises(RunLocked, match="already running in host-a:1") as refused:
            daemon_b.acquire_lock("mqr", "2026-10")
        assert "07:30 UTC" in str(refused.value)
        with daemon_b.acquire_lock("mqr", "2026-09"):  # another period is independent
            pass
    with daemon_b.acquire_lock("mqr", "2026-10"):  # released on exit
        pass

    # A holder that dies keeps its row; after the expiry another engine takes over, and
    # the run it left 'running' is closed as failed.
    orphan = daemon_a.start_run("mqr", "2026-10", trigger="schedule", definition_hash="h",
                                code_version="t")
    daemon_a.acquire_lock("mqr", "2026-10", ttl=timedelta(minutes=30))
    clock.advance(minutes=29)
    with pytest.raises(RunLocked, match="host-a:1"):
        daemon_b.acquire_lock("mqr", "2026-10")
    clock.advance(minutes=2)
    with daemon_b.locked("mqr", "2026-10"), pytest.raises(RunLocked, match="host-b:2"):
        daemon_a.acquire_lock("mqr", "2026-10")
    record = daemon_b.get_run(orphan)
    assert record.status == "failed" and "lock expired" in (record.error or "")
    assert record.finished_at == T0 + timedelta(minutes=31)


def test_engines_racing_for_one_lock_get_it_once(ledger_url: str,
                                                 open_ledger: OpenLedger) -> None:
    clock = Clock()
    daemons = [open_ledger(ledger_url, now=clock, holder=f"host-{n}:1") for n in range(4)]

    won, refused = race([lambda d=d: d.acquire_lock("mqr", "2026-10") for d in daemons])

    assert len(won) == 1 and len(refused) == 3
    assert {locked.holder for locked in refused} == {won[0].ledger.holder}
    won[0].ledger.release_lock(won[0])

    # Several engines finding the same expired lock: still exactly one takes it over.
    daemons[0].acquire_lock("mqr", "2026-10", ttl=timedelta(minutes=5))
    clock.advance(minutes=6)
    won, refused = race([lambda d=d: d.acquire_lock("mqr", "2026-10") for d in daemons[1:]])

    assert len(won) == 1 and len(refused) == 2
    assert won[0].ledger.holder != daemons[0].holder


# --- history and time -------------------------------------------------------------------------
def test_history_lists_runs_newest_first_with_their_statuses(ledger_url: str,
                                                             open_ledger: OpenLedger) -> None:
    clock = Clock()
    ledger = open_ledger(ledger_url, now=clock)
    for i, status in enumerate(["succeeded", "held", "failed"]):
        run_id = ledger.start_run("mqr", "2026-10", trigger="schedule",
                                  definition_hash="d" * 64, code_version="0.1.0")
        clock.advance(minutes=5)
        ledger.finish_run(run_id, status, error=None if status == "succeeded" else f"why {i}",
                          input_hashes={"tickets": f"abc{i}"})
    other = ledger.start_run("qbr", "2026-Q3", trigger="manual", definition_hash="e" * 64,
                             code_version="0.1.0")
    ledger.record_summary(other, {"headline": "CSAT 91%", "recipients": ["a@example.com"]})

    history = ledger.history()

    assert [(r.report_id, r.status, r.attempt, r.error) for r in history] == [
        ("qbr", "running", 1, None), ("mqr", "failed", 3, "why 2"), ("mqr", "held", 2, "why 1"),
        ("mqr", "succeeded", 1, None)]
    assert [r.id for r in history] == sorted((r.id for r in history), reverse=True)
    assert [r.status for r in ledger.history("mqr", limit=2)] == ["failed", "held"]
    assert history[-1].input_hashes == {"tickets": "abc0"}
    assert history[0].summary == {"headline": "CSAT 91%", "recipients": ["a@example.com"]}
    assert [r.started_at for r in reversed(history)] == [
        T0 + timedelta(minutes=5 * i) for i in range(4)]


def test_timestamps_round_trip_timezone_aware(ledger_url: str, open_ledger: OpenLedger) -> None:
    if ledger_url.startswith("postgresql"):
        # A session time zone far from UTC: nothing may depend on the server's setting.
        engine = sa.create_engine(ledger_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            database = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            conn.execute(sa.text(f'ALTER DATABASE "{database}" SET timezone TO '
                                 "'Pacific/Chatham'"))
        engine.dispose()
    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # just after DST
    clock = Clock(berlin)
    ledger = open_ledger(ledger_url, now=clock)

    run_id = ledger.start_run("mqr", "2026-03", trigger="schedule", definition_hash="h",
                              code_version="t")
    delivery = ledger.begin_delivery(run_id, "mqr", "2026-03", "email", "a@example.com")
    clock.advance(hours=1, microseconds=250)
    retry_at = datetime(2026, 3, 29, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    ledger.finish_run(run_id, "failed", error="smtp down", next_retry_at=retry_at)

    run = ledger.get_run(run_id)
    times = [run.started_at, run.finished_at, run.next_retry_at,
             ledger.first_started("mqr", "2026-03"), run.deliveries[0].updated_at]
    assert all(t is not None and t.tzinfo is not None and t.utcoffset() == timedelta(0)
               for t in times), times
    assert run.started_at == berlin == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert run.finished_at == berlin + timedelta(hours=1, microseconds=250)
    assert run.next_retry_at == retry_at
    assert run.deliveries[0].id == delivery.id
    assert run.to_json()["started_at"] == "2026-03-29T01:30:00+00:00"
    with ledger.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            assert conn.execute(sa.text("SHOW timezone")).scalar_one() == "Pacific/Chatham"
        stored = conn.execute(sa.text("SELECT started_at FROM runs WHERE id = :i"),
                              {"i": run_id}).scalar_one()
    # Stored as UTC wall time, so other tools reading the table see the same instant.
    assert str(stored).startswith("2026-03-29 01:30:00")
