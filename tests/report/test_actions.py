"""The action register: loading with located errors, and what it says about a period."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
from support.paths import REPO

from reportgen.cli import main
from reportgen.definition import load_definition
from reportgen.errors import DefinitionError
from reportgen.period import Period
from reportgen.plan import resolve
from reportgen.report.actions import action_register, load_actions, readout
from reportgen.report.model.metric_results import MetricResult, PeriodValue
from reportgen.report.model.sections import Finding

SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")

GOOD_ROW = dict(id="A1", finding="Billing CSAT fell", metric="csat", action="Fix the macros",
                owner="Billing lead", started="2026-09-10", due="2026-09-25", status="open",
                target="0.85")


@pytest.fixture(scope="module")
def plan(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("def")
    (root / "configs").mkdir()
    (root / "out").mkdir()
    (root / "out" / "demo").symlink_to(demo_dir, target_is_directory=True)
    config = root / "configs" / "mqr.yaml"
    config.write_text((REPO / "configs" / "monthly_quality_report.yaml")
                      .read_text(encoding="utf-8"), encoding="utf-8")
    return resolve(load_definition(config))


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def test_the_demo_register_loads(plan, demo_dir: Path) -> None:
    specs = load_actions(demo_dir / "actions.yaml", plan)
    assert {s.metric for s in specs} >= {"csat", "defect_rate", "calibration", "qa_score"}
    assert {s.status for s in specs} == {"open", "done"}


def test_yaml_problems_name_their_line_and_field(plan, tmp_path: Path) -> None:
    path = write(tmp_path, "actions.yaml", """
        actions:
          - id: A1
            finding: Billing CSAT fell
            metric: csat
            action: Fix the macros
            owner: Billing lead
            started: 2026-09-10
            due: 2026-09-25
            status: pending
            target: 0.85
          - id: A2
            finding: Something else
            metric: csta
            action: Look into it
            owner: Someone
            started: 2026-09-10
            due: 2026-09-01
            status: open
            target: 1
    """)
    with pytest.raises(DefinitionError) as caught:
        load_actions(path, plan)
    message = str(caught.value)
    assert f"{path}:9" in message and "status" in message and "'pending'" in message
    assert "actions[1]" in message and "before the start date" in message


def test_unknown_metric_is_located(plan, tmp_path: Path) -> None:
    path = write(tmp_path, "actions.yaml", """
        actions:
          - {id: A1, finding: F, metric: csta, action: X, owner: O, started: 2026-09-01,
             due: 2026-09-30, status: open, target: 1}
    """)
    with pytest.raises(DefinitionError) as caught:
        load_actions(path, plan)
    problem = caught.value.problems[0]
    assert problem.location is not None and problem.location.line == 2
    assert "expected a metric id" in problem.message and "found 'csta'" in problem.message


def test_csv_problems_name_their_line_and_column(plan, tmp_path: Path) -> None:
    header = ",".join(GOOD_ROW)
    good = ",".join(GOOD_ROW.values())
    bad = good.replace("2026-09-25", "25/09/2026")
    path = write(tmp_path, "actions.csv", f"{header}\n{good}\n{bad}\n")
    with pytest.raises(DefinitionError) as caught:
        load_actions(path, plan)
    problem = caught.value.problems[0]
    assert (problem.location.line, problem.location.column) == (3, 7)  # the 7th column, due
    assert "due" in problem.path and "25/09/2026" in problem.message
    path = write(tmp_path, "header.csv", "id,what\nA1,x\n")
    with pytest.raises(DefinitionError, match="expected the columns"):
        load_actions(path, plan)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{header}\n{good}\n".replace("Fix", "R\xe9parer").encode("latin-1"))
    with pytest.raises(DefinitionError, match="expected a readable UTF-8 CSV"):
        load_actions(latin, plan)
    ok = write(tmp_path, "ok.csv", f"{header}\n{good}\n")
    assert [s.id for s in load_actions(ok, plan)] == ["A1"]


def _csat(history: list[tuple[date, float]], value: float) -> MetricResult:
    return MetricResult(metric_id="csat", label="CSAT", calculator="csat", unit="percent",
                        direction="higher", value=value, n=500,
                        history=tuple(PeriodValue(period=d.isoformat(), label=d.isoformat(),
                                                  start=d, value=v, n=500) for d, v in history))


def test_overdue_movement_unowned_and_asks(plan, tmp_path: Path) -> None:
    path = write(tmp_path, "actions.yaml", """
        actions:
          - {id: A1, finding: Billing, metric: csat, action: Fix the macros, owner: Lead,
             started: 2026-09-10, due: 2026-09-25, status: open, target: 0.85}
          - {id: A2, finding: Later, metric: csat, action: Next year's plan, owner: Lead,
             started: 2026-11-01, due: 2026-12-01, status: open, target: 0.85}
    """)
    specs = load_actions(path, plan)
    metrics = {"csat": _csat([(date(2026, 7, 1), 0.80), (date(2026, 8, 1), 0.82),
                              (date(2026, 9, 1), 0.78)], 0.78)}
    findings = [Finding(kind="significant_change", metric_id="csat", scope="overall",
                        sentence="CSAT fell.", severity=60, tone="bad"),
                Finding(kind="target_breach", metric_id="nps", scope="overall",
                        sentence="NPS is off target.", severity=40, tone="bad")]
    register = action_register(specs, metrics, findings, SEPTEMBER)
    assert [i.id for i in register.items] == ["A1"]  # A2 has not started by the period's end
    item = register.items[0]
    assert item.overdue and item.status_text == "Overdue" and item.tone == "bad"
    assert item.movement_text == ("CSAT fell 4.0 points since the action started: 82.0% in "
                                  "August 2026, 78.0% now. Not yet at target.")
    assert register.unowned == ("nps",)  # CSAT has an action; NPS does not
    asks = readout(findings, register).asks
    assert len(asks) == 1 and "past its due date" in asks[0].text


def test_a_bad_register_stops_the_run_with_exit_2(plan, tmp_path: Path) -> None:
    config = plan.loaded.path.read_text(encoding="utf-8").replace(
        "actions: {file: ../out/demo/actions.yaml}", f"actions: {{file: {tmp_path}/bad.yaml}}")
    path = plan.loaded.path.parent / "bad-actions.yaml"
    path.write_text(config, encoding="utf-8")
    write(tmp_path, "bad.yaml", """
        actions:
          - {id: A1, finding: F, metric: csat, action: X, owner: O, started: 2026-09-01,
             due: 2026-09-30, status: maybe, target: 1}
    """)
    out = tmp_path / "out"
    assert main(["run", str(path), "--period", "2026-09", "--out", str(out)]) == 2
    assert not list(out.glob("*.pdf"))
