"""Sparklines: the SVG of a history, and its block glyphs for plain text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reportgen.charts.sparkline import PAD, sparkline_svg
from reportgen.text.sparks import GAP, GLYPHS, spark_glyphs

SVG = "{http://www.w3.org/2000/svg}"


def _points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.get("points", "").split()]  # type: ignore[misc]


def test_a_missing_value_breaks_the_line_and_the_last_value_gets_the_dot():
    svg = ET.fromstring(sparkline_svg([1, 3, None, 2, 4], colour="#123456", width=50, height=10,
                                      end_colour="#C0392B", title="CSAT, Billing"))
    lines = svg.findall(f"{SVG}polyline")
    assert [len(_points(line)) for line in lines] == [2, 2]
    (dot,) = svg.findall(f"{SVG}circle")
    assert dot.get("fill") == "#C0392B"
    # the highest value sits at the top padding, the lowest at the bottom one
    assert float(dot.get("cy", "nan")) == PAD
    assert _points(lines[0])[0][1] == 10 - PAD
    assert svg.find(f"{SVG}title").text == "CSAT, Billing"  # type: ignore[union-attr]


def test_the_target_is_drawn_only_inside_the_lines_range():
    inside = ET.fromstring(sparkline_svg([0.8, 0.9], colour="#000000", target=0.85))
    outside = ET.fromstring(sparkline_svg([0.8, 0.9], colour="#000000", target=0.95))
    assert len(inside.findall(f"{SVG}line")) == 1
    assert outside.findall(f"{SVG}line") == []


def test_glyphs_run_from_the_lowest_to_the_highest_value():
    assert spark_glyphs([10, None, 20, 15]) == GLYPHS[0] + GAP + GLYPHS[-1] + GLYPHS[4]
    assert spark_glyphs([5, 5]) == GLYPHS[3] * 2
    assert spark_glyphs([None, None]) == ""
