"""The ledger's outbox of runs put on the broker, on SQLite and PostgreSQL: recorded queued,
deferred with their next attempt, due by the clock, published once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from reportgen.executors.durable import FIRST_RETRY, LAST_RETRY, backoff
from reportgen.ledger.schema import SCHEMA_VERSION, current_version, migrate


def test_a_queued_run_is_due_until_published_and_waits_out_its_retry(ledger_url, open_ledger):
    clock = [datetime(2026, 10, 2, 7, 0, tzinfo=UTC)]
    ledger = open_ledger(ledger_url, now=lambda: clock[0])
    outbox = ledger.outbox
    row = outbox.add("mqr", "/defs/mqr.yaml", None, None, "schedule")
    assert (row.state, row.attempts, row.period, row.created_at) == ("queued", 0, None, clock[0])
    assert [r.id for r in outbox.due()] == [row.id]

    outbox.deferred(row.id, "the broker at redis://:secret@h:6379 could not be reached",
                    clock[0] + timedelta(seconds=30))
    assert outbox.due() == []
    clock[0] += timedelta(seconds=30)
    (due,) = outbox.due()
    assert due.attempts == 1 and "secret" not in (due.last_error or "")

    outbox.published(row.id, "task-1")
    assert outbox.due() == []
    clock[0] += timedelta(days=1)
    assert outbox.due() == []
    done = outbox.get(row.id)
    assert (done.state, done.task_id, done.attempts, done.next_attempt_at) == (
        "published", "task-1", 2, None)
    other = outbox.add("qbr", "/defs/qbr.yaml", "/s.yaml", "2026-Q3", "manual")
    assert [r.report_id for r in outbox.all()] == ["mqr", "qbr"]
    assert [r.id for r in outbox.all("qbr")] == [other.id]
    # published rows are forgotten after a while; queued ones never are
    assert outbox.forget_published(clock[0] - timedelta(days=2)) == 0
    assert outbox.forget_published(clock[0]) == 1
    assert [r.id for r in outbox.all()] == [other.id]


def test_a_version_8_ledger_gains_the_outbox(ledger_url, open_ledger):
    engine = sa.create_engine(ledger_url)
    migrate(engine, target=8)
    engine.dispose()
    ledger = open_ledger(ledger_url)
    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
    assert ledger.outbox.add("mqr", "/d.yaml", None, None, None).id >= 1


def test_the_backoff_doubles_to_its_cap():
    assert [backoff(n) for n in (1, 2, 3)] == [FIRST_RETRY, 2 * FIRST_RETRY, 4 * FIRST_RETRY]
    assert backoff(50) == LAST_RETRY
