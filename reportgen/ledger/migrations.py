"""The numbered steps that bring an older run ledger forward, one schema version each.

Step *n* takes a ledger at version *n - 1* to version *n*; ``schema.migrate`` runs them in
order, each in its own transaction.  A step is written against the schema as it was at its
version, never against the newest tables, so it keeps working however they change later.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def _v1_initial(conn: Connection) -> None:
    """Version 1 had runs, artifacts and deliveries, without resends or locks."""
    # INTEGER PRIMARY KEY numbers rows by itself only in SQLite; version 1 made its tables
    # from SQLAlchemy metadata, which gives PostgreSQL a SERIAL (sequence-backed) id.
    key = "SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    conn.execute(sa.text(
        f"CREATE TABLE runs (id {key}, report_id VARCHAR(64) NOT NULL, "
        "period VARCHAR(16) NOT NULL, \"trigger\" VARCHAR(16) NOT NULL, "
        "status VARCHAR(16) NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, "
        "definition_hash VARCHAR(64) NOT NULL, input_hashes TEXT, "
        "code_version VARCHAR(64) NOT NULL, error TEXT, attempt INTEGER NOT NULL DEFAULT 1, "
        "next_retry_at TIMESTAMP)"))
    conn.execute(sa.text(
        f"CREATE TABLE artifacts (id {key}, run_id INTEGER NOT NULL "
        "REFERENCES runs (id), format VARCHAR(16) NOT NULL, path TEXT NOT NULL, "
        "size BIGINT NOT NULL, sha256 VARCHAR(64) NOT NULL)"))
    conn.execute(sa.text(
        f"CREATE TABLE deliveries (id {key}, run_id INTEGER NOT NULL "
        "REFERENCES runs (id), report_id VARCHAR(64) NOT NULL, period VARCHAR(16) NOT NULL, "
        "channel VARCHAR(32) NOT NULL, recipient VARCHAR(320) NOT NULL, "
        "status VARCHAR(32) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
        "smtp_message_id VARCHAR(255), last_error TEXT, updated_at TIMESTAMP NOT NULL)"))


def _v2_resends_summary_locks(conn: Connection) -> None:
    """Version 2: delivery purpose + sent-once index, run summary, run locks."""
    conn.execute(sa.text(
        "ALTER TABLE deliveries ADD COLUMN purpose VARCHAR(16) NOT NULL DEFAULT 'delivery'"))
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN summary TEXT"
                         if conn.dialect.name == "sqlite" else
                         "ALTER TABLE runs ADD COLUMN summary JSON"))
    if conn.dialect.name != "sqlite":
        # Version 1 stored input hashes as text on every backend; JSON from here on.
        conn.execute(sa.text(
            "ALTER TABLE runs ALTER COLUMN input_hashes TYPE JSON USING input_hashes::json"))
    timestamp = "TIMESTAMP" if conn.dialect.name != "sqlite" else "DATETIME"
    conn.execute(sa.text(
        "CREATE TABLE run_locks (report_id VARCHAR(64) NOT NULL, period VARCHAR(16) NOT NULL, "
        f"token VARCHAR(32) NOT NULL, holder VARCHAR(255) NOT NULL, "
        f"acquired_at {timestamp} NOT NULL, expires_at {timestamp} NOT NULL, "
        "PRIMARY KEY (report_id, period))"))
    conn.execute(sa.text(
        "CREATE UNIQUE INDEX uq_deliveries_sent_once ON deliveries "
        "(report_id, period, channel, recipient) "
        "WHERE status = 'sent' AND purpose != 'resend'"))
    conn.execute(sa.text(
        "CREATE INDEX ix_deliveries_key ON deliveries (report_id, period, recipient)"))
    conn.execute(sa.text("CREATE INDEX ix_runs_report_id ON runs (report_id)"))
    conn.execute(sa.text("CREATE INDEX ix_artifacts_run_id ON artifacts (run_id)"))
    conn.execute(sa.text("CREATE INDEX ix_deliveries_run_id ON deliveries (run_id)"))


def _v3_live_locks_alerts(conn: Connection) -> None:
    """Version 3: lock holder host, pid and heartbeat; owner alerts; unknown outcomes.

    Version 2 recorded a try (attempts + 1, Message-ID) before sending and left the row
    'pending': a pending row with a try counted is a send whose outcome nobody saw, so it
    becomes 'unconfirmed' and is not sent again blindly.
    """
    timestamp = "TIMESTAMP" if conn.dialect.name != "sqlite" else "DATETIME"
    for column in ("host VARCHAR(255)", "pid INTEGER", f"heartbeat_at {timestamp}"):
        conn.execute(sa.text(f"ALTER TABLE run_locks ADD COLUMN {column}"))
    # NOT NULL as a table made from metadata has it (still SQLite's row id alias).
    key = ("SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql"
           else "INTEGER NOT NULL PRIMARY KEY")
    conn.execute(sa.text(
        f"CREATE TABLE alerts (id {key}, report_id VARCHAR(64) NOT NULL, "
        "period VARCHAR(16) NOT NULL, kind VARCHAR(32) NOT NULL, channel VARCHAR(32) NOT NULL, "
        "recipient VARCHAR(320) NOT NULL, run_id INTEGER REFERENCES runs (id), "
        f"status VARCHAR(16) NOT NULL, message_id VARCHAR(255), error TEXT, "
        f"updated_at {timestamp} NOT NULL, "
        "CONSTRAINT uq_alerts_once UNIQUE (report_id, period, kind, channel))"))
    conn.execute(sa.text(
        "UPDATE deliveries SET status = 'unconfirmed', last_error = 'the process sending it "
        "stopped before the outcome was recorded' "
        "WHERE status = 'pending' AND attempts > 0 AND smtp_message_id IS NOT NULL"))


def _v4_fan_out_children(conn: Connection) -> None:
    """Version 4: runs may have a parent (a fan-out) and name their segment."""
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN parent_id INTEGER REFERENCES runs (id)"))
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN segment VARCHAR(255)"))
    conn.execute(sa.text("CREATE INDEX ix_runs_parent_id ON runs (parent_id)"))


def _v5_pruned_artifacts(conn: Connection) -> None:
    """Version 5: artifacts record when the retention setting pruned their file."""
    timestamp = "TIMESTAMP" if conn.dialect.name != "sqlite" else "DATETIME"
    conn.execute(sa.text(f"ALTER TABLE artifacts ADD COLUMN pruned_at {timestamp}"))
    conn.execute(sa.text("ALTER TABLE artifacts ADD COLUMN pruned_by VARCHAR(255)"))


def _v6_jobs(conn: Connection) -> None:
    """Version 6: the jobs table."""
    timestamp = "TIMESTAMP" if conn.dialect.name != "sqlite" else "DATETIME"
    key = ("SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql"
           else "INTEGER NOT NULL PRIMARY KEY")
    conn.execute(sa.text(
        f"CREATE TABLE jobs (id {key}, kind VARCHAR(32) NOT NULL, "
        "report_id VARCHAR(64) NOT NULL, period VARCHAR(64) NOT NULL, user_name VARCHAR(64), "
        f"state VARCHAR(16) NOT NULL, stage VARCHAR(64), created_at {timestamp} NOT NULL, "
        f"started_at {timestamp}, finished_at {timestamp}, "
        "run_id INTEGER REFERENCES runs (id), run_status VARCHAR(16), error TEXT, "
        "host VARCHAR(255), pid INTEGER)"))
    conn.execute(sa.text("CREATE INDEX ix_jobs_report_id ON jobs (report_id)"))


def _v7_web_tables(conn: Connection) -> None:
    """Version 7: the web page's tables, which until now the page created when missing.

    A table an older page already made is left as it is (same definition, rows kept); a
    missing one is made as that page made it, from SQLAlchemy metadata (its indexes too).
    """
    at_v7 = sa.MetaData()
    sa.Table(
        "web_users", at_v7,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "web_audit", at_v7,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_name", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text),
    )
    sa.Table(
        "web_approvals", at_v7,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False, index=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "web_sessions", at_v7,
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    at_v7.create_all(conn, checkfirst=True)


def _v8_schedule_pauses(conn: Connection) -> None:
    """Version 8: schedules paused from the web page."""
    timestamp = "TIMESTAMP" if conn.dialect.name != "sqlite" else "DATETIME"
    conn.execute(sa.text(
        "CREATE TABLE schedule_pauses (report_id VARCHAR(64) NOT NULL PRIMARY KEY, "
        f"paused_by VARCHAR(64) NOT NULL, paused_at {timestamp} NOT NULL)"))


def _v9_enqueued_runs(conn: Connection) -> None:
    """Version 9: runs recorded before they are put on the broker."""
    timestamp = "TIMESTAMP" if conn.dialect.name != "sqlite" else "DATETIME"
    key = ("SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql"
           else "INTEGER NOT NULL PRIMARY KEY")
    conn.execute(sa.text(
        f"CREATE TABLE enqueued_runs (id {key}, report_id VARCHAR(64) NOT NULL, "
        "definition_path TEXT NOT NULL, settings_path TEXT, period VARCHAR(32), "
        f"trigger VARCHAR(16), state VARCHAR(16) NOT NULL, created_at {timestamp} NOT NULL, "
        f"attempts INTEGER NOT NULL, next_attempt_at {timestamp}, "
        f"published_at {timestamp}, task_id VARCHAR(64), last_error TEXT)"))
    conn.execute(sa.text("CREATE INDEX ix_enqueued_runs_report_id ON enqueued_runs (report_id)"))
    conn.execute(sa.text("CREATE INDEX ix_enqueued_runs_state ON enqueued_runs (state)"))


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_initial, _v2_resends_summary_locks, _v3_live_locks_alerts, _v4_fan_out_children,
    _v5_pruned_artifacts, _v6_jobs, _v7_web_tables, _v8_schedule_pauses,
    _v9_enqueued_runs)
