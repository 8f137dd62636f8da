"""The run ledger's tables, its schema version, and ``migrate``, which brings a ledger to it.

``metadata`` always describes the newest schema.  A new ledger is created from it directly
and stamped with ``SCHEMA_VERSION``; an existing one is brought forward by running, in
order and each in its own transaction, every step of ``migrations.MIGRATIONS`` numbered
above its stored version.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from reportgen.errors import ReportgenError
from reportgen.ledger.migrations import MIGRATIONS

#: how long a SQLite statement waits for another process's write before failing with
#: "database is locked": transactions are short, so a writer that holds its lock longer
#: than this was stopped, and waiting minutes for it helps nobody
SQLITE_BUSY_SECONDS = 5.0


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT added (SQLAlchemy has none for other statements)."""
    key = result.inserted_primary_key
    if key is None:
        raise ReportgenError("the ledger statement inserted no row")
    return int(key[0])


def use_wal(engine: Engine) -> None:
    """Run a SQLite file ledger in WAL mode: readers (``history``, the web page) never wait
    for a writer, even one stopped in the middle of its commit, and writers wait at most
    ``SQLITE_BUSY_SECONDS`` for each other.  WAL needs a local disk (not a network share);
    PostgreSQL is the ledger for more than one process writing at a time."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")
            # Persistent in the file once set; a file locked by a writer right now keeps its
            # mode for this connection and is switched by the next one.
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:  # locked: the next connection switches it
            pass
        finally:
            cursor.close()


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, stored naive UTC (SQLite has no zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores timezone-aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.String(64), nullable=False, index=True),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("definition_hash", sa.String(64), nullable=False),
    sa.Column("input_hashes", sa.JSON),
    sa.Column("code_version", sa.String(64), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("next_retry_at", UtcDateTime),
    # Version 2: the headline and e-mail settings a run was delivered with, so a resend
    # sends the same message without rebuilding the report from data that may have moved.
    sa.Column("summary", sa.JSON),
    # Version 4: a fan-out is one parent run with a child run per segment (the child's
    # report_id is the segment report's, so its deliveries are sent once per segment).
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("runs.id"), index=True),
    sa.Column("segment", sa.String(255)),
)

artifacts = sa.Table(
    "artifacts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    # Version 5: the retention setting deleted the file; when, and under which rule.  The
    # row stays, so history, downloads and resends can say what was there and why it is not.
    sa.Column("pruned_at", UtcDateTime),
    sa.Column("pruned_by", sa.String(255)),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("report_id", sa.String(64), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("smtp_message_id", sa.String(255)),
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Version 2: a resend is a deliberate second send and must not trip the index below.
    sa.Column("purpose", sa.String(16), nullable=False, server_default="delivery"),
)

_SENT_ONCE_WHERE = sa.text("status = 'sent' AND purpose != 'resend'")
sent_once = sa.Index(
    "uq_deliveries_sent_once",
    deliveries.c.report_id, deliveries.c.period, deliveries.c.channel, deliveries.c.recipient,
    unique=True, sqlite_where=_SENT_ONCE_WHERE, postgresql_where=_SENT_ONCE_WHERE,
)
sa.Index("ix_deliveries_key", deliveries.c.report_id, deliveries.c.period,
         deliveries.c.recipient)

run_locks = sa.Table(
    "run_locks", metadata,
    sa.Column("report_id", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("token", sa.String(32), nullable=False),
    sa.Column("holder", sa.String(255), nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    # Version 3: who holds the lock and when it last said so, so a lock whose holder has
    # died (same host, process gone) or gone silent is taken over at once, not at expiry.
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
    sa.Column("heartbeat_at", UtcDateTime),
)

# Version 3: owner alerts (failed, partial, late), at most one per report, period, kind
# and channel; run_id is empty for an alert about a run that never happened.
alerts = sa.Table(
    "alerts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.String(64), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.String(255)),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("report_id", "period", "kind", "channel", name="uq_alerts_once"),
)


# Version 6: jobs a long-lived process (the web page) runs for its users, so their ids stay
# unique and their outcomes stay readable across restarts.
jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("report_id", sa.String(64), nullable=False, index=True),
    sa.Column("period", sa.String(64), nullable=False),
    sa.Column("user_name", sa.String(64)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(64)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
    sa.Column("run_status", sa.String(16)),
    sa.Column("error", sa.Text),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
)


# Version 7: the web page's accounts, audit trail, approvals and sessions.  Before it, the
# page created these tables itself when missing, so a version 6 ledger may already have them.
web_users = sa.Table(
    "web_users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

web_audit = sa.Table(
    "web_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("user_name", sa.String(64)),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(255), nullable=False, server_default=""),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text),
)

web_approvals = sa.Table(
    "web_approvals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, index=True),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("at", UtcDateTime, nullable=False),
)

# Sign-ins held server-side: the cookie carries only a random id, and ending the row (sign-out,
# a password change) ends the session whatever the cookie says.  Only the id's hash is kept.
web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# Version 8: a report's schedule paused from the web page (by an admin or an approver), kept
# apart from its definition's ``schedule.enabled``: a row here means scheduled runs skip it.
schedule_pauses = sa.Table(
    "schedule_pauses", metadata,
    sa.Column("report_id", sa.String(64), primary_key=True),
    sa.Column("paused_by", sa.String(64), nullable=False),
    sa.Column("paused_at", UtcDateTime, nullable=False),
)

# Version 9: runs put on the broker for the workers, recorded before they are published, so a
# broker that is down when a schedule fires delays the run instead of losing it.
enqueued_runs = sa.Table(
    "enqueued_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.String(64), nullable=False, index=True),
    sa.Column("definition_path", sa.Text, nullable=False),
    sa.Column("settings_path", sa.Text),
    sa.Column("period", sa.String(32)),
    sa.Column("trigger", sa.String(16)),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("published_at", UtcDateTime),
    sa.Column("task_id", sa.String(64)),
    sa.Column("last_error", sa.Text),
)


class LedgerVersionError(ReportgenError):
    def __init__(self, url: str, found: int, known: int):
        super().__init__(
            f"the run ledger at {url} has schema version {found}, newer than this reportgen "
            f"knows ({known}); upgrade reportgen before using this ledger")


#: the version ``metadata`` describes: the last migration step's
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The stored schema version; 0 for an empty database."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("schema_version"):
        # A ledger from before versioning has its tables but no version row: version 1.
        return 1 if inspector.has_table("runs") else 0
    return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0


#: serialises migrations within a process (a daemon's jobs open the ledger at once)
_MIGRATING = threading.Lock()
#: PostgreSQL advisory lock key held while a migration step runs
_ADVISORY_KEY = 0x7265706F  # 'repo'


def migrate(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Create or upgrade the ledger schema to ``target``; return the version it is at.

    Several processes may open a new ledger at once: PostgreSQL serialises them with an
    advisory lock; on SQLite the loser of a race sees the tables the winner created and
    starts again from the version now recorded.
    """
    with _MIGRATING:
        for attempt in range(5):
            try:
                return _migrate(engine, target)
            except sa.exc.DBAPIError as exc:
                text = str(exc.orig if exc.orig is not None else exc).lower()
                raced = "already exists" in text or "duplicate" in text or "locked" in text \
                    or "unique" in text
                if not raced or attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _serialise(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})


def _migrate(engine: Engine, target: int) -> int:
    with engine.begin() as conn:
        _serialise(conn)
        found = current_version(conn)
        if found > SCHEMA_VERSION:
            raise LedgerVersionError(engine.url.render_as_string(hide_password=True),
                                     found, SCHEMA_VERSION)
        if found == 0 and target == SCHEMA_VERSION:
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return SCHEMA_VERSION
        if not sa.inspect(conn).has_table("schema_version"):
            schema_version.create(conn)
            conn.execute(schema_version.insert().values(version=found))
    for number in range(found + 1, target + 1):
        with engine.begin() as conn:
            _serialise(conn)
            if current_version(conn) >= number:
                continue  # another process got here first
            MIGRATIONS[number - 1](conn)
            conn.execute(schema_version.update().values(version=number))
    return max(found, target)
