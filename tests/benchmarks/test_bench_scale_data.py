"""benchmarks/scale_data.py (scaled demo tables) and benchmarks/measure.py (run costs)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from support.benchmark_scripts import load_benchmark
from support.paths import REPO

from reportgen.demo.writer import SCHEMA

ROWS = 20_000
SCALED_TABLES = (*SCHEMA, "qa_review_ratings")
# Tables whose month the output must keep, by the time column the reports filter on.
MONTHLY = {"tickets": "created_at", "csat_responses": "responded_at",
           "qa_reviews": "reviewed_at", "moderation_decisions": "decided_at",
           "qa_review_ratings": "reviewed_at"}
KEYS = {"tickets": ["ticket_id"], "csat_responses": ["response_id"],
        "qa_reviews": ["review_id"], "qa_ratings": ["review_id", "category"],
        "qa_review_ratings": ["review_id", "category"],
        "calibration_scores": ["session_id", "ticket_id", "rater_id", "category"],
        "calibration_reviews": ["session_id", "ticket_id", "rater_id"],
        "moderation_decisions": ["decision_id"], "qa_disputes": ["dispute_id"],
        "qa_auto_scores": ["review_id", "category"], "qa_sample": ["ticket_id"],
        "qa_auto_only": ["ticket_id", "category"], "ticket_followups": ["ticket_id"],
        "contact_archive": ["contact_id"], "qa_auto_checks": ["ticket_id", "category"],
        "ticket_languages": ["ticket_id"]}


def scale_data(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "scale_data.py"), "--out", str(out), *args],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scaled")
    done = scale_data(out, "--rows-per-source", f"{ROWS}", "--formats", "csv,parquet,sqlite")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def db(scaled: Path) -> duckdb.DuckDBPyConnection:
    """The scaled Parquet files as views, with the CSV files beside them as csv_<table>."""
    connection = duckdb.connect()
    for table in SCALED_TABLES:
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM '{scaled / table}.parquet'")
        connection.execute(f"CREATE VIEW csv_{table} AS SELECT * FROM read_csv("
                           f"'{scaled / table}.csv', all_varchar = true)")
    return connection


def count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = connection.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_layout_is_the_demo_layout_plus_parquet(scaled: Path, demo_dir: Path) -> None:
    demo_files = {path.name for path in demo_dir.iterdir()}
    written = {path.name for path in scaled.iterdir()}
    assert written == demo_files | {f"{table}.parquet" for table in SCALED_TABLES}
    assert (scaled / "stories.json").read_bytes() == (demo_dir / "stories.json").read_bytes()
    with sqlite3.connect(scaled / "reportgen_demo.sqlite") as scaled_db, \
            sqlite3.connect(demo_dir / "reportgen_demo.sqlite") as demo_db:
        query = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        assert scaled_db.execute(query).fetchall() == demo_db.execute(query).fetchall()


@pytest.mark.parametrize("table", SCALED_TABLES)
def test_every_table_has_about_the_rows_asked_for_in_every_format(
        scaled: Path, db: duckdb.DuckDBPyConnection, table: str) -> None:
    in_parquet = count(db, f"SELECT count(*) FROM {table}")
    # Rows are sampled (below the demo size) or copied in whole units (a review's ratings,
    # a calibration item's raters), so the count is N give or take a few percent.
    assert abs(in_parquet - ROWS) <= 0.03 * ROWS
    assert count(db, f"SELECT count(*) FROM csv_{table}") == in_parquet
    with sqlite3.connect(scaled / "reportgen_demo.sqlite") as connection:
        (in_sqlite,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert in_sqlite == in_parquet


@pytest.mark.parametrize("table", SCALED_TABLES)
def test_keys_are_unique_and_the_formats_hold_the_same_rows(
        db: duckdb.DuckDBPyConnection, table: str) -> None:
    key = ", ".join(KEYS[table])
    assert count(db, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL "
                     f"HAVING count(*) > 1)") == 0
    text = ", ".join(f"CAST({column} AS VARCHAR)" for column in KEYS[table])
    assert count(db, f"SELECT count(*) FROM (SELECT {text} FROM {table} EXCEPT "
                     f"SELECT {key} FROM csv_{table})") == 0


@pytest.mark.parametrize(("child", "column", "parent"), [
    ("csat_responses", "ticket_id", "tickets"), ("qa_reviews", "ticket_id", "tickets"),
    ("qa_ratings", "review_id", "qa_reviews"),
])
def test_references_resolve(db: duckdb.DuckDBPyConnection, child: str, column: str,
                            parent: str) -> None:
    assert count(db, f"SELECT count(*) FROM {child} AS c ANTI JOIN {parent} AS p "
                     f"USING ({column})") == 0


@pytest.mark.parametrize("table", ["calibration_scores", "calibration_reviews"])
def test_calibration_items_stay_apart(db: duckdb.DuckDBPyConnection, demo_dir: Path,
                                      table: str) -> None:
    # Reports key calibration items by ticket_id: as in the demo, a ticket is calibrated in
    # one session only, so copies of items never merge into one.
    most = "SELECT max(n) FROM (SELECT count(DISTINCT session_id) AS n FROM {} GROUP BY ticket_id)"
    assert count(db, most.format(f"'{demo_dir / table}.csv'")) == 1
    assert count(db, most.format(table)) == 1


def test_joined_ratings_are_the_ratings_with_their_reviews_columns(
        db: duckdb.DuckDBPyConnection) -> None:
    joined = ("SELECT r.*, v.reviewed_at, v.auditor_id, v.agent_id, v.queue, v.channel "
              "FROM qa_ratings AS r JOIN qa_reviews AS v USING (review_id)")
    assert count(db, f"SELECT count(*) FROM ({joined} EXCEPT ALL "
                     "SELECT * FROM qa_review_ratings)") == 0
    assert count(db, f"SELECT count(*) FROM (SELECT * FROM qa_review_ratings EXCEPT ALL "
                     f"{joined})") == 0


TIMES = {"tickets": ("created_at", "solved_at"), "csat_responses": ("responded_at",),
         "qa_reviews": ("reviewed_at",), "moderation_decisions": ("decided_at",),
         "qa_disputes": ("raised_at", "resolved_at"), "qa_auto_scores": ("reviewed_at",),
         "qa_review_ratings": ("reviewed_at",)}


@pytest.mark.parametrize("table", sorted(TIMES))
def test_parquet_times_are_typed_and_hold_the_csv_times(
        db: duckdb.DuckDBPyConnection, table: str) -> None:
    types = dict(db.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
    assert {types[column] for column in TIMES[table]} == {"TIMESTAMP"}
    key = ", ".join(KEYS[table])
    as_text = ", ".join(f"strftime({column}, '%Y-%m-%d %H:%M:%S')" for column in TIMES[table])
    assert count(db, f"SELECT count(*) FROM (SELECT {key}, {as_text} FROM {table} EXCEPT ALL "
                     f"SELECT {key}, {', '.join(TIMES[table])} FROM csv_{table})") == 0


@pytest.mark.parametrize("table", sorted(MONTHLY))
def test_monthly_shares_match_the_demo(db: duckdb.DuckDBPyConnection, demo_dir: Path,
                                       table: str) -> None:
    column = MONTHLY[table]

    def shares(relation: str) -> dict[str, float]:
        rows = db.execute(f"SELECT left(CAST({column} AS VARCHAR), 7) AS month, count(*) / sum(count(*)) OVER () "
                          f"FROM {relation} GROUP BY month").fetchall()
        return dict(rows)

    original = shares(f"read_csv('{demo_dir / table}.csv', all_varchar = true)")
    scaled = shares(table)
    assert scaled.keys() == original.keys()
    # A month holds ~1/13 of the rows; 20,000 rows sampled from a few thousand demo units
    # move a share by well under two points unless months are lost or shifted.
    assert max(abs(scaled[m] - original[m]) for m in original) < 0.02


@pytest.fixture(scope="module")
def doubled(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """The demo copied exactly twice over (--keep-ratios at twice the demo's tickets), CSV."""
    out = tmp_path_factory.mktemp("doubled")
    demo_tickets = sum(1 for _ in (demo_dir / "tickets.csv").open(encoding="utf-8")) - 1
    done = scale_data(out, "--rows-per-source", str(2 * demo_tickets), "--keep-ratios",
                      "--formats", "csv")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("table", SCALED_TABLES)
def test_keep_ratios_copies_every_table_by_one_factor_and_copy_0_is_the_demo(
        doubled: Path, demo_dir: Path, table: str) -> None:
    original = (demo_dir / f"{table}.csv").read_text(encoding="utf-8").splitlines()
    copied = (doubled / f"{table}.csv").read_text(encoding="utf-8").splitlines()
    assert copied[0] == original[0]
    assert len(copied) - 1 == 2 * (len(original) - 1)
    key = copied[0].split(",").index(KEYS[table][0])
    first_copy = [line for line in copied[1:] if not line.split(",")[key].endswith("-r1")]
    assert sorted(first_copy) == sorted(original[1:])


@pytest.mark.parametrize("table", sorted(MONTHLY))
def test_rows_come_month_by_month(db: duckdb.DuckDBPyConnection, table: str) -> None:
    # As an export sorted by time would be, so that readers can skip by month.
    months = db.execute(f"SELECT left({MONTHLY[table]}, 7) FROM csv_{table}").fetchall()
    changes = [(a, b) for (a,), (b,) in zip(months, months[1:], strict=False) if a != b]
    assert len(changes) == 12
    assert all(a < b for a, b in changes)


def test_copies_keep_their_month_and_durations_and_move_at_most_15_minutes(
        doubled: Path, demo_dir: Path) -> None:
    connection = duckdb.connect()
    moved = connection.execute(f"""
        SELECT count(*),
               count(*) FILTER (WHERE s.ticket_id LIKE '%-r1'),
               count(*) FILTER (WHERE date_trunc('month', s.created_at) <> date_trunc('month', o.created_at)
                                   OR date_trunc('month', s.solved_at) <> date_trunc('month', o.solved_at)),
               max(abs(epoch(s.created_at) - epoch(o.created_at))),
               count(*) FILTER (WHERE s.solved_at - s.created_at <> o.solved_at - o.created_at),
               count(*) FILTER (WHERE (s.solved_at IS NULL) <> (o.solved_at IS NULL)),
               count(*) FILTER (WHERE s.queue <> o.queue
                                   OR s.first_response_minutes <> o.first_response_minutes)
        FROM '{doubled / "tickets.csv"}' AS s JOIN '{demo_dir / "tickets.csv"}' AS o
          ON o.ticket_id = regexp_replace(s.ticket_id, '-r1$', '')
    """).fetchone()
    assert moved is not None
    rows, copies, month_changed, largest_move, duration_changed, solved_changed, other = moved
    assert copies == rows / 2
    assert (month_changed, duration_changed, solved_changed, other) == (0, 0, 0, 0)
    assert 0 < largest_move <= 15 * 60
    badly_written = connection.execute(f"""
        SELECT count(*) FROM read_csv('{doubled / "tickets.csv"}', all_varchar = true)
        WHERE NOT regexp_full_match(created_at, '\\d{{4}}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d')
           OR NOT regexp_full_match(coalesce(solved_at, '2026-01-01 00:00:00'),
                                    '\\d{{4}}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d')
    """).fetchone()
    assert badly_written == (0,)


def test_each_month_holds_copy_0_of_all_its_rows_then_copy_1(doubled: Path) -> None:
    # Rows repeat a month apart at the closest, never side by side, so files compress and
    # scan like real exports rather than like runs of near-duplicates.
    lines = (doubled / "tickets.csv").read_text(encoding="utf-8").splitlines()[1:]
    runs = []
    for line in lines:
        ticket_id, created_at = line.split(",")[:2]
        run = (created_at[:7], ticket_id.endswith("-r1"))
        if not runs or runs[-1] != run:
            runs.append(run)
    months = sorted({month for month, _ in runs})
    assert runs == [(month, copy) for month in months for copy in (False, True)]


def test_unknown_table_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    done = scale_data(tmp_path / "out", "--rows-per-source", "1000", "--tables", "tickets,tikets")
    assert done.returncode == 2
    assert "unknown table 'tikets'; did you mean 'tickets'?" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# --- measure.py ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def measure() -> ModuleType:
    return load_benchmark("measure")


def test_peak_rss_is_the_childs(measure: ModuleType) -> None:
    big = measure.run_once([sys.executable, "-c", "b = b'x' * (200 * 2**20)"])
    small = measure.run_once([sys.executable, "-c", "pass"])
    assert big.peak_rss_bytes >= 190 * 2**20
    assert small.peak_rss_bytes < 100 * 2**20
    assert big.returncode == small.returncode == 0


def test_wall_and_cpu_time_are_the_childs(measure: ModuleType) -> None:
    asleep = measure.run_once([sys.executable, "-c", "import time; time.sleep(0.4)"])
    busy = measure.run_once(
        [sys.executable, "-c", "import time\nwhile time.process_time() < 0.4: pass"])
    assert asleep.wall_seconds >= 0.4
    assert asleep.cpu_seconds < 0.3
    assert busy.cpu_seconds >= 0.4
    assert busy.wall_seconds >= busy.cpu_seconds * 0.9


_ORPHAN = """
import os, sys, time
if os.fork() == 0:  # a grandchild its parent never waits for, busy for {busy} s, alive {alive} s
    began = time.monotonic()
    while time.process_time() < {busy}: pass
    time.sleep(max(0.0, {alive} - (time.monotonic() - began)))
    os._exit(0)
os._exit(0)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="a child subreaper is a Linux feature")
def test_cpu_counts_descendants_left_to_finish_alone(measure: ModuleType) -> None:
    # A browser's renderers end after the browser stopped waiting for them: their CPU counts
    orphaned = measure.run_once([sys.executable, "-c", _ORPHAN.format(busy=0.5, alive=0)])
    assert orphaned.cpu_seconds >= 0.5
    assert orphaned.left_running == 0
    leaked = measure.run_once([sys.executable, "-c", _ORPHAN.format(busy=0, alive=7)])
    assert leaked.left_running == 1


def test_summary_and_pair_ratios(measure: ModuleType) -> None:
    long, short = (["sleep", "0.4"], ["sleep", "0.1"])
    firsts, seconds = measure.run_pair(long, short, 3)
    wall_median, pairs = measure.ratios(firsts, seconds)["wall_s"]
    assert len(pairs) == 3
    assert all(ratio > 2 for ratio in pairs)
    assert wall_median > 2
    spread = measure.summarise(firsts)["wall_s"]
    assert 0.4 <= spread.min <= spread.median <= spread.max


def test_failed_command_reports_its_status_and_stderr(measure: ModuleType) -> None:
    with pytest.raises(measure.CommandFailed, match="status 3") as failure:
        measure.run_once([sys.executable, "-c",
                          "import sys; print('broken input', file=sys.stderr); sys.exit(3)"])
    assert failure.value.stderr_tail == "broken input"
    with pytest.raises(OSError, match="no-such-program"):
        measure.run_once(["no-such-program"])


def test_cli_prints_runs_summary_and_ratios(measure: ModuleType,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert measure.main(["--pair", "--runs", "2", "sleep 0.2", "sleep 0.1"]) == 0
    out = capsys.readouterr().out
    assert out.count("A run ") == 2 and out.count("B run ") == 2
    assert "A/B wall" in out and "A/B peak RSS" in out
    with pytest.raises(SystemExit) as refused:
        measure.main(["--pair", "sleep 0.1"])
    assert refused.value.code == 2


def test_one_language_per_ticket_copy_above_the_demo_size(tmp_path: Path) -> None:
    """Above the demo's size, tickets get a second copy for some rows: each ticket copy
    keeps one language row (SQLite's primary key holds) and every language's ticket exists."""
    done = scale_data(tmp_path, "--rows-per-source", "70000", "--formats", "sqlite",
                      "--tables", "tickets,ticket_languages")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "reportgen_demo.sqlite") as connection:
        tickets, languages, copies, orphans = connection.execute(
            "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_languages), "
            "(SELECT count(*) FROM ticket_languages WHERE ticket_id LIKE '%-r1'), "
            "(SELECT count(*) FROM ticket_languages AS l WHERE NOT EXISTS "
            " (SELECT 1 FROM tickets AS t WHERE t.ticket_id = l.ticket_id))").fetchone()
    assert tickets > 61_000 and copies > 1_000  # second copies were made
    assert orphans == 0
    assert 0.98 * tickets <= languages <= tickets  # the demo's share of tickets with one


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
@pytest.mark.parametrize("config", sorted(
    p.name for p in (REPO / "benchmarks" / "configs").glob("*.yaml")))
def test_every_benchmark_definition_validates(config: str, file_format: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # a definition rule added later (a target at the wrong end of its scale) must not
    # leave a benchmark that stops before it measures anything
    from reportgen.plan import load_definition

    monkeypatch.setenv("BENCH_FILE_FORMAT", file_format)
    path = REPO / "benchmarks" / "configs" / config
    assert load_definition(path).definition.sources
