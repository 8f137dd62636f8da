"""The memory policy of the embedded DuckDB databases: limits from the settings, spilling,
and running out of memory reported as a resource error (exit 3), at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from reportgen.cli import main
from reportgen.data import resources
from reportgen.data.relations import duckdb_connection
from reportgen.data.threads import ordered_map
from reportgen.errors import ResourceError, SourceError
from reportgen.settings import SettingsError, load_settings

DEFINITION = """
    id: mqr
    title: Monthly Quality Report
    sources:
      csat: {kind: csv, path: csat.csv, time_column: responded_at, columns: {rating: int}}
    metrics:
      - {id: csat, calculator: csat, source: csat, params: {column: rating}}
    sections:
      - {id: voc, title: Voice of the customer, kpis: [csat]}
    """


@pytest.fixture(autouse=True)
def _default_policy():
    resources.configure()
    yield
    resources.configure()


def _csat_csv(path: Path, rows: int = 2000) -> None:
    pd.DataFrame({"responded_at": [f"2026-09-{1 + i % 28:02d} 10:00:00" for i in range(rows)],
                  "rating": [1 + i % 5 for i in range(rows)]}).to_csv(path, index=False)


def test_a_tiny_memory_limit_exits_3_with_advice_and_writes_nothing(
        tmp_path, write_definition, capsys):
    _csat_csv(tmp_path / "csat.csv")
    path = write_definition(DEFINITION)
    settings = tmp_path / "settings.yaml"
    settings.write_text("duckdb: {memory_limit: 2MB, temp_directory: spill}\n")
    out = tmp_path / "out"
    code = main(["run", str(path), "--period", "2026-09", "--out", str(out),
                 "--settings", str(settings), "--ledger", f"sqlite:///{tmp_path / 'runs.db'}"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "source 'csat'" in err and "ran out of memory" in err and "1.9 MiB" in err
    assert "raise duckdb.memory_limit" in err and str(tmp_path / "spill") in err
    assert "Traceback" not in err and "invalid" not in err.lower()
    assert not [p for p in out.iterdir() if p.suffix in (".pdf", ".pptx", ".xlsx", ".part")]


def test_the_same_run_completes_with_the_default_limit(tmp_path, write_definition, capsys):
    _csat_csv(tmp_path / "csat.csv")
    path = write_definition(DEFINITION)
    out = tmp_path / "out"
    code = main(["run", str(path), "--period", "2026-09", "--out", str(out)])
    assert code == 0, capsys.readouterr().err


def test_new_databases_get_the_configured_limit_and_spill_folder(tmp_path):
    resources.configure("300MB", tmp_path / "spill")
    conn = duckdb_connection()
    try:
        limit, folder = conn.exec_driver_sql(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')").one()
    finally:
        conn.close()
    # DuckDB shows the limit in binary units: 300 MB is 286.1 MiB
    assert limit == "286.1 MiB"
    assert Path(folder).parent == tmp_path / "spill"


def test_the_default_limit_is_a_share_of_memory_and_at_least_1_gib(monkeypatch):
    monkeypatch.setattr(resources, "machine_memory", lambda: 2 * resources.GIB)
    assert resources.default_memory_limit() == resources.GIB
    monkeypatch.setattr(resources, "machine_memory", lambda: 32 * resources.GIB)
    assert resources.default_memory_limit() == 8 * resources.GIB


def test_csv_buffers_fit_the_limit_and_hold_the_longest_line():
    line = 4 << 20
    small = resources.DuckDbPolicy(256 * 10**6, Path("/tmp"))
    assert small.csv_buffer_bytes(line, threads=2) == line + (1 << 20)
    large = resources.DuckDbPolicy(8 * resources.GIB, Path("/tmp"))
    assert large.csv_buffer_bytes(line, threads=2) == 16 << 20  # however large the limit
    # eight buffers per thread on two threads: a quarter of the limit
    middle = resources.DuckDbPolicy(2 * resources.GIB, Path("/tmp"))
    assert middle.csv_buffer_bytes(line, threads=2) * 8 * 2 <= 2 * resources.GIB // 4


def test_settings_take_the_limit_from_the_environment_and_refuse_a_bad_size(tmp_path):
    settings = load_settings(None, {"REPORTGEN_DUCKDB_MEMORY_LIMIT": "3GB"})
    assert settings.duckdb.memory_limit == "3GB"
    with pytest.raises(SettingsError) as error:
        load_settings(None, {"REPORTGEN_DUCKDB_MEMORY_LIMIT": "lots"})
    assert "duckdb.memory_limit" in str(error.value) and "2GB" in str(error.value)


def test_an_urgent_failure_is_raised_at_once_and_stops_the_others():
    released = threading.Event()
    stopped: list[float] = []

    def work(item: int) -> int:
        if item == 1:  # a long statement, ended only by stop()
            if not released.wait(10):
                raise AssertionError("never stopped")
            raise SourceError("slow", "interrupted")
        time.sleep(0.05)
        raise ResourceError("source 'big': out of memory", "raise duckdb.memory_limit")

    def stop() -> None:
        stopped.append(time.monotonic())
        released.set()

    start = time.monotonic()
    with pytest.raises(ResourceError):
        list(ordered_map(work, [1, 2, 3], 2, urgent=ResourceError, stop=stop))
    assert stopped and stopped[0] - start < 2
    assert time.monotonic() - start < 5


def test_interrupt_stops_a_running_duckdb_statement():
    failures: list[BaseException] = []
    with resources.tracked_connections() as live:
        ready = threading.Event()
        import contextvars

        def long_query() -> None:
            conn = duckdb_connection()
            ready.set()
            try:
                conn.exec_driver_sql("SELECT count(*) FROM range(100000000000) AS a(i) "
                                     "WHERE i % 7 = 3").fetchall()
            except Exception as exc:  # noqa: BLE001  (the interruption is what is tested)
                failures.append(exc)
            finally:
                conn.close()

        thread = threading.Thread(target=contextvars.copy_context().run, args=(long_query,))
        start = time.monotonic()
        thread.start()
        assert ready.wait(10)
        time.sleep(0.3)
        live.interrupt()
        thread.join(20)
    assert not thread.is_alive()
    assert failures and "nterrupt" in str(failures[0])
    assert time.monotonic() - start < 10
