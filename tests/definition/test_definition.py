from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.errors import DefinitionError
from reportgen.plan import load_definition
from reportgen.plan.schema import definition_schema

GOOD = """
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
    target: 0.85
sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return [str(p) for p in info.value.problems]


def test_a_valid_definition_loads_with_defaults(write_definition):
    loaded = load_definition(write_definition(GOOD))
    d = loaded.definition
    assert d.period.grain == "month" and d.statistics.alpha == 0.05
    assert d.metrics[0].by == ["queue"]
    assert [o.format for o in d.outputs] == ["pdf"]
    assert len(loaded.hash) == 64


def test_three_distinct_mistakes_are_reported_together_with_lines(write_definition, capsys):
    text = GOOD.replace("    target: 0.85", "    target: high\n    colour: blue") \
               .replace("calculator: csat", "calculator: csat_top2")
    path = write_definition(text)
    problems = problems_of(path)
    assert len(problems) == 3, problems
    joined = "\n".join(problems)
    # line numbers are those of the offending lines in the file written above
    lines = path.read_text().splitlines()
    calc_line = next(i for i, line in enumerate(lines, 1) if "csat_top2" in line)
    target_line = next(i for i, line in enumerate(lines, 1) if "target: high" in line)
    colour_line = next(i for i, line in enumerate(lines, 1) if "colour" in line)
    assert f"{path}:{calc_line}:17 metrics[0].calculator: unknown calculator 'csat_top2'; did you mean 'csat'?" in joined
    assert f"{path}:{target_line}:13 metrics[0].target:" in joined and "'high'" in joined
    assert f"{path}:{colour_line}:5 metrics[0].colour: unknown key 'colour'" in joined

    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "3 problems" in err and "did you mean 'csat'" in err


def test_unknown_top_level_key_suggests_the_right_one(write_definition):
    problems = problems_of(write_definition(GOOD + "secions: []\n"))
    assert any("unknown key 'secions'; did you mean 'sections'?" in p for p in problems)


def test_metric_on_a_column_the_source_does_not_declare(write_definition):
    path = write_definition(GOOD.replace("params: {column: rating}", "params: {column: score}"))
    (problem,) = problems_of(path)
    assert "metric 'csat' reads column 'score', which source 'csat' does not declare" in problem
    assert "available: queue, rating, responded_at" in problem


def test_breakdown_by_a_pii_column_needs_permission(write_definition):
    text = GOOD.replace("columns: {rating: int, queue: str}",
                        "columns: {rating: int, queue: str, email: str}\n    pii: [email]") \
               .replace("by: [queue]", "by: [email]")
    (problem,) = problems_of(write_definition(text))
    assert "personal data" in problem and "privacy.allow_pii" in problem
    allowed = text + "privacy:\n  allow_pii: [email]\n"
    assert load_definition(write_definition(allowed)).definition.privacy.allow_pii == ["email"]


def test_section_referencing_an_unknown_metric(write_definition):
    (problem,) = problems_of(write_definition(GOOD.replace("kpis: [csat]", "kpis: [cast]")))
    assert "sections[0].kpis[0]: unknown metric 'cast'; did you mean 'csat'?" in problem


def test_calculator_params_are_validated(write_definition):
    (problem,) = problems_of(write_definition(GOOD.replace("{column: rating}", "{column: rating, scael: 5}")))
    assert "metrics[0].params.scael: unknown key 'scael'; did you mean 'scale'?" in problem


def test_missing_environment_variable_is_named_and_secret_values_are_not_printed(
        write_definition, monkeypatch, capsys):
    text = GOOD.replace("path: csat.csv", "path: ${CSAT_DIR}/csat.csv")
    path = write_definition(text)
    monkeypatch.delenv("CSAT_DIR", raising=False)
    (problem,) = problems_of(path)
    assert "sources.csat.path: environment variable ${CSAT_DIR} is not set" in problem
    monkeypatch.setenv("CSAT_DIR", "/data/exports")
    assert load_definition(path).definition.sources["csat"].path == "/data/exports/csat.csv"


def test_yaml_syntax_error_points_at_the_line(write_definition):
    path = write_definition("id: x\ntitle: [unclosed\nsources: {}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:3:") and "invalid YAML" in problem


def test_invalid_cron_and_email_address(write_definition):
    text = GOOD + "schedule:\n  cron: '61 7 * * *'\ndelivery:\n  email:\n    to: [not-an-address]\n"
    problems = "\n".join(problems_of(write_definition(text)))
    assert "schedule.cron: not a valid crontab expression" in problems
    assert "delivery.email.to[0]" in problems and "is not an email address" in problems


def test_subject_with_a_line_break_is_rejected(write_definition):
    text = GOOD + 'delivery:\n  email:\n    to: [a@example.com]\n    subject: "Report\\r\\nBcc: x@evil.test"\n'
    problems = "\n".join(problems_of(write_definition(text)))
    assert "delivery.email.subject" in problems and "single line" in problems


def test_schema_command_outputs_json_schema(tmp_path, capsys):
    schema = definition_schema()
    assert schema["title"] == "reportgen report definition"
    assert schema["additionalProperties"] is False
    assert "metrics" in schema["required"]
    out = tmp_path / "schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["properties"]["period"]


def test_validate_exit_codes_via_the_console_script(write_definition):
    good = write_definition(GOOD, "good.yaml")
    bad = write_definition(GOOD.replace("kind: csv", "kind: cvs"), "bad.yaml")
    ok = subprocess.run([sys.executable, "-m", "reportgen.cli", "validate", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run([sys.executable, "-m", "reportgen.cli", "validate", str(bad)],
                            capture_output=True, text=True)
    assert failed.returncode == 2
    assert "unknown source kind 'cvs'; did you mean 'csv'?" in failed.stderr
    assert "Traceback" not in failed.stderr
