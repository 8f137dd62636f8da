"""Resolve: params validated once, kept on the plan, and their problems located."""

from __future__ import annotations

import pytest

from reportgen.definition import load_definition as load_document
from reportgen.errors import DefinitionError
from reportgen.plan import CheckedDefinition, load_definition, resolve

DEFINITION = """
id: mqr
title: Monthly Quality Report
sources:
  csat:
    kind: csv
    path: csat.csv
    time_column: responded_at
    columns: {rating: int, queue: str}
metrics:
  - id: csat
    calculator: csat
    source: csat
    params: {column: rating}
    by: [queue]
charts:
  - id: csat_by_queue
    type: bar
    metric: csat
    params: {by: queue}
sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
    charts: [csat_by_queue]
"""


def test_the_plan_keeps_the_params_the_check_validated(write_definition) -> None:
    loaded = load_definition(write_definition(DEFINITION))
    assert isinstance(loaded, CheckedDefinition)
    plan = resolve(loaded)
    assert plan.metric("csat").params is loaded.metric_params["csat"].params
    assert plan.charts[0].params is loaded.chart_params["csat_by_queue"].params
    assert plan.headline == ("csat",)


def test_a_definition_loaded_without_the_registry_checks_is_validated_by_resolve(
        write_definition) -> None:
    path = write_definition(DEFINITION.replace("{column: rating}", "{column: rating, scael: 5}")
                            .replace("{by: queue}", "{by: queue, top: 0}"))
    loaded = load_document(path)  # the document alone: the params are not checked yet
    with pytest.raises(DefinitionError) as info:
        resolve(loaded)
    problems = [str(p) for p in info.value.problems]
    lines = path.read_text().splitlines()
    metric_line = next(i for i, line in enumerate(lines, 1) if "scael" in line)
    chart_line = next(i for i, line in enumerate(lines, 1) if "top: 0" in line)
    assert any(p.startswith(f"{path}:{metric_line}:") and "metrics[0].params.scael: unknown key "
               "'scael'; did you mean 'scale'?" in p for p in problems), problems
    assert any(p.startswith(f"{path}:{chart_line}:") and "charts[0].params.top:" in p
               for p in problems), problems
