"""Writing the demo tables: one SQLite file, one CSV per table and stories.json, atomically."""

from __future__ import annotations

import csv
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SQLITE_NAME = "reportgen_demo.sqlite"
STORIES_NAME = "stories.json"

# Table -> ((column, SQLite type), ...), in column order.  Timestamps are TEXT
# 'YYYY-MM-DD HH:MM:SS' in UTC so that string order is time order; flags are INTEGER 0/1.
SCHEMA: Mapping[str, tuple[tuple[str, str], ...]] = {
    "tickets": (
        ("ticket_id", "TEXT PRIMARY KEY"), ("created_at", "TEXT NOT NULL"), ("solved_at", "TEXT"),
        ("status", "TEXT NOT NULL"), ("queue", "TEXT NOT NULL"), ("channel", "TEXT NOT NULL"),
        ("site", "TEXT NOT NULL"), ("agent_id", "TEXT NOT NULL"), ("agent_name", "TEXT"),
        ("customer_name", "TEXT"), ("customer_email", "TEXT"), ("contact_reason", "TEXT"),
        ("priority", "TEXT NOT NULL"), ("first_response_minutes", "REAL"),
        ("sla_target_minutes", "INTEGER"), ("sla_met", "INTEGER"), ("resolution_hours", "REAL"),
        ("handle_minutes", "REAL"), ("agent_replies", "INTEGER"), ("reopened", "INTEGER"),
        ("escalated", "INTEGER"), ("survey_sent", "INTEGER"),
    ),
    "csat_responses": (
        ("response_id", "TEXT PRIMARY KEY"),
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"),
        ("responded_at", "TEXT NOT NULL"), ("queue", "TEXT"), ("channel", "TEXT"), ("site", "TEXT"),
        ("agent_id", "TEXT"), ("rating", "INTEGER NOT NULL"), ("nps_score", "INTEGER"),
        ("effort_score", "INTEGER"), ("comment", "TEXT"),
    ),
    "qa_reviews": (
        ("review_id", "TEXT PRIMARY KEY"),
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"),
        ("reviewed_at", "TEXT NOT NULL"), ("auditor_id", "TEXT NOT NULL"), ("agent_id", "TEXT"),
        ("queue", "TEXT"), ("channel", "TEXT"), ("scorecard", "TEXT"),
    ),
    "qa_ratings": (
        ("review_id", "TEXT NOT NULL REFERENCES qa_reviews (review_id)"),
        ("category", "TEXT NOT NULL"), ("weight", "REAL"), ("critical", "INTEGER"),
        ("rating", "INTEGER"), ("scale_min", "INTEGER"), ("scale_max", "INTEGER"),
    ),
    "calibration_scores": (
        ("session_id", "TEXT NOT NULL"), ("session_date", "TEXT NOT NULL"),
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"), ("rater_id", "TEXT NOT NULL"),
        ("role", "TEXT NOT NULL"), ("category", "TEXT NOT NULL"), ("rating", "INTEGER"),
    ),
    "calibration_reviews": (
        ("session_id", "TEXT NOT NULL"), ("session_date", "TEXT NOT NULL"),
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"), ("rater_id", "TEXT NOT NULL"),
        ("role", "TEXT NOT NULL"), ("review_score", "REAL"),
    ),
    "moderation_decisions": (
        ("decision_id", "TEXT PRIMARY KEY"), ("decided_at", "TEXT NOT NULL"),
        ("policy_area", "TEXT NOT NULL"), ("moderator_id", "TEXT NOT NULL"),
        ("action", "TEXT NOT NULL"), ("gold_action", "TEXT"), ("appealed", "INTEGER"),
        ("appeal_outcome", "TEXT"), ("overturned", "INTEGER"), ("language", "TEXT"),
    ),
    "qa_disputes": (
        ("dispute_id", "TEXT PRIMARY KEY"),
        ("review_id", "TEXT NOT NULL REFERENCES qa_reviews (review_id)"),
        ("raised_at", "TEXT NOT NULL"), ("resolved_at", "TEXT"), ("auditor_id", "TEXT NOT NULL"),
        ("agent_id", "TEXT"), ("queue", "TEXT"), ("category", "TEXT NOT NULL"),
        ("outcome", "TEXT NOT NULL"), ("accepted", "INTEGER"), ("days_to_resolve", "REAL"),
    ),
    "qa_auto_scores": (
        ("review_id", "TEXT NOT NULL REFERENCES qa_reviews (review_id)"),
        ("reviewed_at", "TEXT NOT NULL"), ("agent_id", "TEXT"), ("queue", "TEXT"),
        ("category", "TEXT NOT NULL"), ("human_rating", "INTEGER"), ("auto_rating", "INTEGER"),
    ),
    "qa_sample": (
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"),
        ("drawn_at", "TEXT NOT NULL"), ("review_status", "TEXT NOT NULL"),
        ("review_id", "TEXT REFERENCES qa_reviews (review_id)"),
    ),
    "qa_auto_only": (
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"),
        ("scored_at", "TEXT NOT NULL"), ("agent_id", "TEXT"), ("queue", "TEXT"),
        ("category", "TEXT NOT NULL"), ("auto_rating", "INTEGER"), ("confirmed_by", "TEXT"),
    ),
    "ticket_followups": (
        ("ticket_id", "TEXT PRIMARY KEY REFERENCES tickets (ticket_id)"),
        ("solved_at", "TEXT NOT NULL"), ("recontacted_7d", "INTEGER"),
    ),
    "contact_archive": (
        ("contact_id", "TEXT PRIMARY KEY"), ("month", "TEXT NOT NULL"),
        ("queue", "TEXT NOT NULL"), ("contact_reason", "TEXT"),
    ),
    "qa_auto_checks": (
        ("ticket_id", "TEXT NOT NULL REFERENCES tickets (ticket_id)"),
        ("category", "TEXT NOT NULL"), ("checked_at", "TEXT NOT NULL"),
        ("checked_by", "TEXT NOT NULL"), ("human_rating", "INTEGER"),
    ),
    "ticket_languages": (
        ("ticket_id", "TEXT PRIMARY KEY REFERENCES tickets (ticket_id)"),
        ("language", "TEXT NOT NULL"),
    ),
}
REVIEW_COLUMNS_IN_VIEW = ("reviewed_at", "auditor_id", "agent_id", "queue", "channel")
VIEWS: Mapping[str, str] = {
    "qa_review_ratings": (
        "SELECT r.review_id, r.category, r.weight, r.critical, r.rating, r.scale_min, "
        "r.scale_max, " + ", ".join(f"v.{c}" for c in REVIEW_COLUMNS_IN_VIEW)
        + " FROM qa_ratings AS r JOIN qa_reviews AS v ON v.review_id = r.review_id"
    ),
}
# Secondary indexes on the columns reports filter by.
INDEXES: Sequence[tuple[str, str]] = (
    ("tickets", "created_at"), ("csat_responses", "responded_at"),
    ("qa_reviews", "reviewed_at"), ("qa_ratings", "review_id"),
    ("moderation_decisions", "decided_at"), ("qa_disputes", "raised_at"),
    ("qa_auto_scores", "reviewed_at"), ("qa_sample", "drawn_at"),
    ("qa_auto_only", "scored_at"), ("ticket_followups", "solved_at"),
)


def columns(table: str) -> list[str]:
    """Column names of a table or view, in order."""
    if table == "qa_review_ratings":
        return [name for name, _ in SCHEMA["qa_ratings"]] + list(REVIEW_COLUMNS_IN_VIEW)
    return [name for name, _ in SCHEMA[table]]


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success rename it onto ``path``, else delete it."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    # Created like any new file (mode 0o666 less the umask), unlike mkstemp's 0o600.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        with tmp.open("rb+") as fh:  # on disk before it takes the final name
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def as_python(series: pd.Series) -> list[Any]:
    """Column values as Python scalars with None for missing (what sqlite3 binds)."""
    if isinstance(series.dtype, pd.Int64Dtype):
        # pandas-stubs leave out None as the value of a missing one
        return series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    values = series.to_numpy()
    if values.dtype.kind == "f":
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out.tolist()
    return values.tolist()


def write_sqlite(path: Path, tables: Mapping[str, Mapping[str, list[Any]]]) -> None:
    """Create every table, view and index in a fresh SQLite file at ``path``.

    ``tables`` maps each table to its columns as lists of Python values (see ``as_python``).
    """
    with atomic_path(path) as tmp:
        connection = sqlite3.connect(tmp)
        try:
            # The file only takes its final name once complete, so no journal is needed.
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            for table, spec in SCHEMA.items():
                body = ", ".join(f"{name} {kind}" for name, kind in spec)
                connection.execute(f"CREATE TABLE {table} ({body})")
                values = tables[table]
                rows = zip(*(values[name] for name, _ in spec), strict=True)
                marks = ", ".join("?" * len(spec))
                connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            for view, select in VIEWS.items():
                connection.execute(f"CREATE VIEW {view} AS {select}")
            for table, column in INDEXES:
                connection.execute(f"CREATE INDEX ix_{table}_{column} ON {table} ({column})")
            connection.commit()
        finally:
            connection.close()


def write_csv(path: Path, columns: Mapping[str, list[Any]]) -> None:
    """Write UTF-8 CSV with a header: empty field = NULL, floats in shortest round-trip form."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(columns)
        # Rows are built lazily, one at a time, straight from the column lists.
        out.writerows(zip(*columns.values(), strict=True))


def python_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Every column of ``frame`` as a list of Python values (converted once, written twice)."""
    return {name: as_python(frame[name]) for name in frame.columns}


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
