"""A score's target is checked against the score's scale and which end of it is good."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.errors import DefinitionError
from reportgen.plan import load_definition

EFFORT = """
id: effort
title: Effort
sources:
  responses:
    kind: csv
    path: responses.csv
    time_column: responded_at
    columns: {effort_score: int}
metrics:
  - id: ces
    label: Customer effort
    calculator: ces
    source: responses
    params: {column: effort_score}
    target: {target}
sections:
  - id: voc
    title: Voice of the customer
    kpis: [ces]
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return [str(p) for p in info.value.problems]


def target_line(path: Path) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1)
                if line.strip().startswith("target:"))


def test_a_target_outside_the_scale_is_a_located_error(write_definition) -> None:
    path = write_definition(EFFORT.replace("{target}", "8"))
    [problem] = problems_of(path)
    assert f"{path}:{target_line(path)}:" in problem
    assert "metrics[0].target: target 8 is outside the metric's 1-7 scale" in problem


def test_a_target_at_the_bad_end_is_a_located_error(write_definition) -> None:
    """2.5 on a 1-7 effort scale where 7 is easy: almost any month would meet it."""
    path = write_definition(EFFORT.replace("{target}", "2.5"))
    [problem] = problems_of(path)
    assert f"{path}:{target_line(path)}:" in problem
    assert "target 2.5 is at the wrong end of the 1-7 scale: higher is easier" in problem
    assert "did you mean 5.5?" in problem


def test_the_direction_decides_the_good_end(write_definition) -> None:
    """With 'direction: lower' (a scale where 1 is easy), 2.5 is a sound target and 5.5 is
    the wrong end."""
    lower = EFFORT.replace("    target: {target}", "    direction: lower\n    target: {target}")
    assert load_definition(write_definition(lower.replace("{target}", "2.5")))
    [problem] = problems_of(write_definition(lower.replace("{target}", "5.5"), "high.yaml"))
    assert "target 5.5 is at the wrong end" in problem


@pytest.mark.parametrize("target", ["5", "5.5", "7", "4"])
def test_targets_on_the_good_half_load(write_definition, target: str) -> None:
    assert load_definition(write_definition(EFFORT.replace("{target}", target)))


def test_the_demo_definitions_set_sound_effort_targets() -> None:
    root = Path(__file__).resolve().parents[2] / "configs"
    for name in ("monthly_quality_report.yaml", "mqr_by_queue.yaml"):
        loaded = load_definition(root / name)
        ces = next(m for m in loaded.definition.metrics if m.calculator == "ces")
        assert ces.target is not None and ces.target >= 4, name
