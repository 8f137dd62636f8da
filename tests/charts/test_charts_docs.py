"""Every registered chart is documented in docs/charts.md, with every param and a valid example."""

from __future__ import annotations

import re

import pytest
import yaml
from support.paths import REPO

from reportgen.charts import CHARTS
from reportgen.definition.content_specs import ChartSpec

DOCS = REPO / "docs" / "charts.md"


def sections() -> dict[str, str]:
    parts = re.split(r"^## `([a-z0-9_]+)`\s*$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {parts[i]: parts[i + 1].split("\n---\n")[0] for i in range(1, len(parts), 2)}


def test_documented_names_are_registered() -> None:
    assert set(sections()) == set(CHARTS.names())


@pytest.mark.parametrize("name", CHARTS.names())
def test_chart_is_documented_with_every_param_and_a_valid_example(name: str) -> None:
    section = sections().get(name)
    assert section is not None, f"docs/charts.md has no '## `{name}`' section"
    builder = CHARTS.instance(name)
    for field in builder.Params.model_fields:
        assert f"`{field}`" in section, f"{name}: parameter '{field}' is not documented"
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    examples = [item for block in blocks for item in yaml.safe_load(block) or []]
    assert examples, f"{name}: no YAML example"
    for example in examples:
        spec = ChartSpec.model_validate(example)
        assert spec.type == name
        builder.Params.model_validate(spec.params)
