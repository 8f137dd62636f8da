"""The run ledger on a real SQLite file: schema, migration, history, locks, exactly-once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from reportgen import secrets
from reportgen.ledger.schema import SCHEMA_VERSION, current_version, migrate
from reportgen.ledger.store import AlreadySent, Ledger, RunLocked, RunNotFound
from reportgen.report.model.report_model import Artifact

T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
#: a heartbeat silence these tests never reach, for tests about the lock's expiry alone
QUIET = timedelta(hours=1)


class Clock:
    """A settable clock (the only thing these tests fake)."""

    def __init__(self, start: datetime = T0):
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)


def test_history_lists_every_run_with_its_status(tmp_path: Path) -> None:
    clock = Clock()
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}", now=clock)
    statuses = ["succeeded", "held", "failed"]
    for i, status in enumerate(statuses):
        run_id = ledger.start_run("mqr", "2026-10", trigger="schedule",
                                  definition_hash="d" * 64, code_version="0.1.0")
        clock.advance(minutes=5)
        ledger.finish_run(run_id, status, error=None if status == "succeeded" else f"why {i}",
                          input_hashes={"tickets": "abc"})
    other = ledger.start_run("qbr", "2026-Q3", trigger="manual", definition_hash="e" * 64,
                             code_version="0.1.0")
    ledger.record_artifacts(other, [Artifact("pdf", "/tmp/qbr.pdf", 10, "f" * 64)])

    history = ledger.history()
    assert [(r.report_id, r.status, r.attempt) for r in history] == [
        ("qbr", "running", 1), ("mqr", "failed", 3), ("mqr", "held", 2),
        ("mqr", "succeeded", 1)]
    assert [r.status for r in ledger.history("mqr")] == ["failed", "held", "succeeded"]
    first = ledger.get_run(history[-1].id)
    assert first.started_at == T0 and first.finished_at == T0 + timedelta(minutes=5)
    assert first.input_hashes == {"tickets": "abc"}
    assert history[0].artifacts[0].sha256 == "f" * 64
    assert history[0].to_json()["artifacts"][0]["path"] == "/tmp/qbr.pdf"
    with pytest.raises(RunNotFound, match="no run #99"):
        ledger.get_run(99)


def test_an_older_ledger_is_migrated_keeping_its_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    migrate(engine, target=1)  # the schema as version 1 of the tool created it
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO runs (report_id, period, \"trigger\", status, started_at, "
            "definition_hash, input_hashes, code_version, attempt) VALUES ('mqr', '2026-09', "
            "'schedule', 'succeeded', '2026-10-02 07:00:00', 'h', '{\"t\": \"x\"}', '0.0.9', 1)"))
        conn.execute(sa.text(
            "INSERT INTO deliveries (run_id, report_id, period, channel, recipient, status, "
            "attempts, updated_at) VALUES (1, 'mqr', '2026-09', 'email', 'a@example.com', "
            "'sent', 1, '2026-10-02 07:01:00')"))
        assert current_version(conn) == 1
        assert "purpose" not in {c["name"] for c in sa.inspect(conn).get_columns("deliveries")}
    engine.dispose()

    ledger = Ledger(url)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
        assert sa.inspect(conn).has_table("run_locks")
    (old,) = ledger.history()
    assert (old.period, old.status, old.input_hashes) == ("2026-09", "succeeded", {"t": "x"})
    assert old.started_at == datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
    assert old.deliveries[0].purpose == "delivery"
    # The new sent-once index applies to the migrated rows too.
    again = ledger.begin_delivery(old.id, "mqr", "2026-09", "email", "a@example.com")
    assert again.status == "sent" and again.id == old.deliveries[0].id
    Ledger(url)  # opening an up-to-date ledger changes nothing


def test_sent_is_unique_in_the_database_not_only_in_code(ledger: Ledger) -> None:
    run_id = ledger.start_run("mqr", "2026-10", trigger="manual", definition_hash="h",
                              code_version="t")
    first = ledger.begin_delivery(run_id, "mqr", "2026-10", "email", "a@example.com")
    ledger.mark_sent(first.id, "<1@example.com>")
    # Bypass the code path that would reuse the row: insert a second one directly.
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO deliveries (run_id, report_id, period, channel, recipient, status, "
            "attempts, updated_at, purpose) VALUES (:r, 'mqr', '2026-10', 'email', "
            "'a@example.com', 'pending', 0, '2026-11-01 00:00:00', 'delivery')"), {"r": run_id})
        second_id = conn.execute(sa.text("SELECT max(id) FROM deliveries")).scalar_one()

    with pytest.raises(AlreadySent, match="already recorded as sent"):
        ledger.mark_sent(second_id, "<2@example.com>")
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        conn.execute(sa.text("UPDATE deliveries SET status = 'sent' WHERE id = :i"),
                     {"i": second_id})
    resend = ledger.begin_delivery(run_id, "mqr", "2026-10", "email", "a@example.com",
                                   purpose="resend")
    ledger.mark_sent(resend.id, "<3@example.com>")  # a deliberate resend is allowed


def test_a_lock_admits_one_holder_and_expires_for_a_crashed_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    clock = Clock()
    daemon_a = Ledger(url, now=clock, holder="host-a:1",
                      heartbeat_stale=QUIET)
    daemon_b = Ledger(url, now=clock, holder="host-b:2", heartbeat_stale=QUIET)

    with daemon_a.acquire_lock("mqr", "2026-10", ttl=timedelta(minutes=30)):
        with pytest.raises(RunLocked, match="already running in host-a:1"):
            daemon_b.acquire_lock("mqr", "2026-10")
        with daemon_b.acquire_lock("mqr", "2026-09"):  # another period is independent
            pass
    with daemon_b.acquire_lock("mqr", "2026-10"):  # released on exit
        pass

    # A holder that dies keeps its row; after the expiry another daemon may take over,
    # and the run it left 'running' is closed as failed.
    orphan = daemon_a.start_run("mqr", "2026-10", trigger="schedule", definition_hash="h",
                                code_version="t")
    daemon_a.acquire_lock("mqr", "2026-10", ttl=timedelta(minutes=30))
    clock.advance(minutes=29)
    with pytest.raises(RunLocked):
        daemon_b.acquire_lock("mqr", "2026-10")
    clock.advance(minutes=2)
    with daemon_b.locked("mqr", "2026-10"):
        pass
    record = daemon_b.get_run(orphan)
    assert record.status == "failed" and "lock expired" in (record.error or "")


def test_errors_are_redacted_before_they_are_stored(ledger: Ledger, tmp_path: Path) -> None:
    secrets.remember("hunter2-ledger-secret")
    run_id = ledger.start_run("mqr", "2026-10", trigger="manual", definition_hash="h",
                              code_version="t")
    ledger.finish_run(run_id, "failed", error="could not connect to "
                      "postgresql://qa:pw-in-url@db/x with hunter2-ledger-secret, nor to "
                      "redis://:only-a-password@cache:6379/0")

    error = ledger.get_run(run_id).error or ""
    assert "hunter2-ledger-secret" not in error and "pw-in-url" not in error
    assert "only-a-password" not in error and "redis://:***@cache:6379/0" in error
    assert "***" in error
    raw = (tmp_path / "runs.sqlite").read_bytes()
    assert b"hunter2-ledger-secret" not in raw and b"pw-in-url" not in raw


def test_the_first_message_id_of_a_delivery_is_never_replaced(ledger: Ledger) -> None:
    run_id = ledger.start_run("mqr", "2026-10", trigger="manual", definition_hash="h",
                              code_version="t")
    row = ledger.begin_delivery(run_id, "mqr", "2026-10", "email", "a@example.com")

    assert ledger.begin_attempt(row.id, "<first@example.com>") == "<first@example.com>"
    ledger.mark_sending(row.id)
    ledger.mark_failed(row.id, "421 closing", permanent=False)
    # A retry, in this run or the next, composes a new id; the ledger hands back the first.
    assert ledger.begin_attempt(row.id, "<second@example.com>") == "<first@example.com>"
    ledger.mark_sent(row.id, "<third@example.com>")

    state = ledger.delivery_state("mqr", "2026-10", "email", "a@example.com")
    assert state is not None
    assert (state.status, state.attempts, state.smtp_message_id) == (
        "sent", 2, "<first@example.com>")
