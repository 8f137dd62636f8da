"""Resolve: params validated once, kept on the plan, and their problems located."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.paths import REPO

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


def test_resolving_the_demo_plan_leaves_the_drawing_code_unloaded() -> None:
    # A regeneration that reuses every figure resolves the plan and draws nothing: matplotlib
    # (~0.4 s) is loaded only when a chart's builder is asked for.
    script = """
import sys
from reportgen.plan import load_definition, resolve
plan = resolve(load_definition("configs/monthly_quality_report.yaml"))
print(len(plan.charts), "matplotlib" in sys.modules)
print(plan.charts[0].builder.name == plan.charts[0].spec.type, "matplotlib" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, check=True)
    resolved, drawn = done.stdout.split("\n")[:2]
    assert resolved.split()[1] == "False" and int(resolved.split()[0]) > 0, done.stdout
    assert drawn == "True True", done.stdout
