"""Sparklines: a value's history as a small line, drawn as SVG for a tile or a table cell.

Written as SVG text rather than through matplotlib: a scorecard holds dozens of them, a
matplotlib figure each would cost far more than the page, and the drawing is one polyline
with a dot.  The colours are the chart look's (``charts.ink`` and the theme's), so a
sparkline reads like the trend chart it summarises: the line in the theme's primary
colour, the latest value as a dot in its status colour, the target as a dashed muted line.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from reportgen.charts.ink import MUTED

#: the stroke of the line, in the drawing's own units (it scales with the image)
LINE_WIDTH = 1.4
DOT_RADIUS = 2.0
PAD = 2.5


def sparkline_svg(values: Sequence[float | None], *, colour: str, width: float = 72,
                  height: float = 18, end_colour: str = "", target: float | None = None,
                  title: str = "") -> str:
    """The SVG of ``values`` (oldest first) as a line ``width`` × ``height`` points.

    A missing value breaks the line; the last value shown gets a dot (``end_colour``, else
    the line's); ``target`` is drawn as a dashed line when it lies within the values'
    range (outside it, it would flatten the line to the edge); ``title`` is the drawing's
    accessible name.
    """
    shown = [v for v in values if v is not None]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:g}pt" '
             f'viewBox="0 0 {width:g} {height:g}" role="img">']
    if title:
        parts.append(f"<title>{_escape(title)}</title>")
    if not shown:
        return "".join([*parts, "</svg>"])
    low, high = min(shown), max(shown)
    span = high - low
    step = (width - 2 * PAD) / max(len(values) - 1, 1)

    def y_of(value: float) -> float:
        if span == 0:
            return height / 2
        return PAD + (high - value) / span * (height - 2 * PAD)

    if target is not None and span > 0 and low <= target <= high:
        y = y_of(target)
        parts.append(f'<line x1="{PAD:g}" x2="{width - PAD:g}" y1="{y:.2f}" y2="{y:.2f}" '
                     f'stroke="{MUTED}" stroke-width="0.7" stroke-dasharray="2 1.5"/>')
    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((PAD + i * step, y_of(value)))
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{x:.2f},{y:.2f}" for x, y in run)
            parts.append(f'<polyline points="{points}" fill="none" stroke={quoteattr(colour)} '
                         f'stroke-width="{LINE_WIDTH}" stroke-linejoin="round" '
                         'stroke-linecap="round"/>')
    last_x, last_y = next(run[-1] for run in reversed(runs) if run)
    parts.append(f'<circle cx="{last_x:.2f}" cy="{last_y:.2f}" r="{DOT_RADIUS}" '
                 f'fill={quoteattr(end_colour or colour)}/>')
    return "".join([*parts, "</svg>"])


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
