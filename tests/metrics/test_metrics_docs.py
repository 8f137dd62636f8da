"""Every registered calculator is documented in docs/metrics.md, with a working example."""

from __future__ import annotations

import re

import pytest
import yaml
from support.paths import REPO

from reportgen.definition.content_specs import MetricSpec
from reportgen.metrics import CALCULATORS, calculator

DOCS = REPO / "docs" / "metrics.md"


def sections() -> dict[str, str]:
    """Calculator name -> the text of its '## `name`' section."""
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## `([a-z0-9_]+)`\s*$", text, flags=re.MULTILINE)
    # A group of calculators ends at a horizontal rule ("---") before the next group heading.
    return {parts[i]: parts[i + 1].split("\n---\n")[0] for i in range(1, len(parts), 2)}


def test_documented_names_are_registered() -> None:
    assert set(sections()) <= set(CALCULATORS.names())


@pytest.mark.parametrize("name", CALCULATORS.names())
def test_calculator_is_documented(name: str) -> None:
    section = sections().get(name)
    assert section is not None, f"docs/metrics.md has no '## `{name}`' section"
    calc = calculator(name)
    assert "**Formula:**" in section
    assert f"`{calc.estimate_kind}`" in section, f"{name}: estimate kind not named"
    for field in calc.Params.model_fields:
        assert f"`{field}`" in section, f"{name}: parameter '{field}' is not documented"


@pytest.mark.parametrize("name", CALCULATORS.names())
def test_documented_example_is_valid(name: str) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", sections().get(name, ""), flags=re.DOTALL)
    examples = [item for block in blocks for item in (yaml.safe_load(block) or [])
                if isinstance(item, dict) and item.get("calculator") == name]
    assert examples, f"{name}: no YAML example using the calculator"
    for example in examples:
        spec = MetricSpec.model_validate(example)
        calc = calculator(name)
        params = calc.Params.model_validate(spec.params)
        assert calc.describe(params)  # every {placeholder} of the formula is a parameter
        assert params.columns() is not None
