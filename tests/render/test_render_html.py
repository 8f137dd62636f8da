"""The HTML renderer: the PDF's own templates as one self-contained page, by name."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from support.web_site import mini_definition

from reportgen.errors import UnknownNameError
from reportgen.plan import load_definition
from reportgen.render import RENDERERS
from reportgen.run.build import build_report, render_outputs


def test_renderers_are_registered_by_the_names_definitions_use():
    assert RENDERERS.names() == ["html", "pdf", "pptx", "xlsx"]
    with pytest.raises(UnknownNameError, match="did you mean 'html'"):
        RENDERERS.get("htm")


def test_an_html_output_is_one_page_with_its_styles_inlined(demo_dir, tmp_path):
    path = mini_definition(demo_dir, tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["outputs"] = [{"format": "html"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loaded = load_definition(path)
    period = loaded.definition.period
    from reportgen.period import Period

    result = build_report(loaded, Period.parse("2026-09", period.grain, period.timezone),
                          now=datetime(2026, 10, 5, tzinfo=UTC))
    [artifact] = render_outputs(loaded, result, tmp_path / "out")
    page = Path(artifact.path).read_text(encoding="utf-8")
    assert artifact.format == "html" and Path(artifact.path).name == "csat-mini-2026-09.html"
    assert hashlib.sha256(page.encode()).hexdigest() == artifact.sha256
    assert "file://" not in page  # nothing the reader's browser cannot load
    assert '<style data-source="base.css">' in page
    assert "Voice of the customer" in page and "September 2026" in page
    kpi = result.model.summary_kpis[0]
    assert kpi.value_text in page  # the same text the PDF places
