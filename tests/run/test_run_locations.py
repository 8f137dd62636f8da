"""An error about a definition's inputs found when ``run`` reads them (a data file or an
action register that is not there, a column the data lacks) names the line of the
definition that points at them, and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cli import main

DEFINITION = """\
id: mqr
title: Monthly Quality Report
sources:
  tickets: {kind: csv, path: tickets.csv, time_column: created_at}
metrics:
  - {id: tickets, calculator: volume, source: tickets, by: [queue]}
sections:
  - {id: overview, title: Overview, kpis: [tickets]}
"""


def position_of(path: Path, text: str) -> str:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return f"{number}:{line.index(text) + 1}"
    raise AssertionError(text)


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str = "") -> tuple[Path, str]:
    path = tmp_path / "mqr.yaml"
    path.write_text(DEFINITION + extra, encoding="utf-8")
    status = main(["run", str(path), "--period", "2026-10", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    return path, err


def test_a_data_file_that_is_not_there_names_the_definitions_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, err = run(tmp_path, capsys)
    assert f"{path}:{position_of(path, 'tickets.csv')} sources.tickets.path: " in err, err
    assert "file not found" in err


def test_a_column_the_data_lacks_names_the_definitions_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tickets.csv").write_text("id,created_at\n1,2026-10-02 10:00:00\n",
                                          encoding="utf-8")
    path, err = run(tmp_path, capsys)
    assert f"{path}:{position_of(path, 'tickets.csv')} sources.tickets.path: " in err, err
    assert "missing column 'queue'" in err


def test_an_action_register_that_is_not_there_names_the_definitions_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, err = run(tmp_path, capsys, "actions: {file: register.yaml}\n")
    assert f"{path}:{position_of(path, 'register.yaml')} actions.file: " in err, err
    assert str(tmp_path / "register.yaml") in err
