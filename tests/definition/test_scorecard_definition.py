"""A definition's scorecard: its metrics are checked like every other reference, located."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.errors import DefinitionError
from reportgen.plan import load_definition

BASE = """
id: mqr
title: Monthly Quality Report
sources:
  csat:
    kind: csv
    path: csat.csv
    time_column: responded_at
    columns: {rating: int, queue: str, channel: str}
metrics:
  - id: csat
    calculator: csat
    source: csat
    params: {column: rating}
    by: [queue, channel]
    target: 0.85
  - id: responses
    calculator: volume
    source: csat
    by: [channel]
sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_scorecard_of_known_metrics_loads(write_definition):
    path = write_definition(BASE + "scorecard:\n  by: queue\n  metrics: [csat]\n")
    scorecard = load_definition(path).definition.scorecard
    assert scorecard is not None and scorecard.by == "queue" and scorecard.metrics == ["csat"]


def test_a_scorecard_naming_an_unknown_metric_is_located(write_definition):
    path = write_definition(BASE + "scorecard:\n  by: queue\n  metrics:\n    - csat\n    - cast\n")
    (problem,) = problems_of(path)
    line = line_of(path, "- cast")
    assert problem.startswith(f"{path}:{line}:")
    assert "scorecard.metrics[1]: unknown metric 'cast'" in problem
    assert "did you mean 'csat'?" in problem


def test_a_scorecard_metric_without_the_breakdown_is_located(write_definition):
    path = write_definition(BASE + "scorecard:\n  by: queue\n  metrics:\n    - csat\n    - responses\n")
    (problem,) = problems_of(path)
    line = line_of(path, "- responses")
    assert problem.startswith(f"{path}:{line}:")
    assert "metric 'responses' has no breakdown 'queue'" in problem and "(it has: channel)" in problem


def test_a_scorecard_needs_a_metric_and_no_unknown_key(write_definition):
    path = write_definition(BASE + "scorecard:\n  by: queue\n  metrics: []\n  colour: red\n")
    problems = problems_of(path)
    assert any(f":{line_of(path, 'metrics: []')}:" in p and "scorecard.metrics" in p
               for p in problems), problems
    assert any("unknown key 'colour'" in p for p in problems), problems
